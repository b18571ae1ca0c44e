//! The hashing threads run at the lowest CPU priority by default (Linux:
//! `SCHED_BATCH` at nice 19), read back from `/proc` as the kernel sees
//! them; `with_background_priority(false)` leaves them at normal priority.
//! Alone in its test binary, so no other test's hashing threads are seen.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use auth_local_idp::Argon2Hasher;

/// `SCHED_BATCH` in `/proc/<pid>/task/<tid>/stat`.
const SCHED_BATCH: i64 = 3;

/// The hashing threads of this process: tid -> (nice, policy).
fn hashing_threads() -> BTreeMap<String, (i64, i64)> {
    let mut found = BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !comm.starts_with("argon2-") {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
        // Fields after the command name, which ends at the last `)`: the
        // 3rd field of the line is the first here.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        let nice = fields[19 - 3].parse().unwrap();
        let policy = fields[41 - 3].parse().unwrap();
        let tid = dir.file_name().unwrap().to_string_lossy().into_owned();
        found.insert(tid, (nice, policy));
    }
    found
}

#[tokio::test]
async fn hashing_threads_run_at_the_lowest_priority_unless_told_otherwise() {
    let background = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .with_concurrency(2)
        .build()
        .unwrap();
    background
        .hash("correct horse battery staple")
        .await
        .unwrap();
    let lowered = hashing_threads();
    assert_eq!(lowered.len(), 2, "{lowered:?}");
    for (tid, (nice, policy)) in &lowered {
        assert_eq!(*nice, 19, "thread {tid}");
        assert_eq!(*policy, SCHED_BATCH, "thread {tid}");
    }

    let normal = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .with_concurrency(2)
        .with_background_priority(false)
        .build()
        .unwrap();
    normal.hash("correct horse battery staple").await.unwrap();
    let fresh: Vec<(i64, i64)> = hashing_threads()
        .into_iter()
        .filter(|(tid, _)| !lowered.contains_key(tid))
        .map(|(_, scheduling)| scheduling)
        .collect();
    assert_eq!(fresh, [(0, 0), (0, 0)], "normal priority, SCHED_OTHER");
}
