//! The core conformance kit, one test per check, run against every database
//! for real: `sqlite_file::create_and_get`, `postgres::sessions::expiry`,
//! `mysql::tokens::concurrent_takes` and so on.

mod common;

use auth_core::testkit::{
    admin_conformance, one_time_token_conformance, second_factor_conformance, session_conformance,
    store_conformance,
};
use auth_store_seaorm::{SeaOrmAuthStore, SeaOrmSessionBackend};
use common::Db;

/// The URL of `db` for one test: a SQLite file of its own, or the server.
fn url(db: Db) -> Option<String> {
    match db {
        Db::SqliteFile => Some(common::test_db_url()),
        _ => common::url(db),
    }
}

/// A store on `db`, or `None` when its server is left out.
async fn store(db: Db) -> Option<SeaOrmAuthStore> {
    let url = url(db)?;
    let store = SeaOrmAuthStore::connect(&url).await;
    Some(store.unwrap_or_else(|e| panic!("connecting to {db:?}: {}", common::chain(&e))))
}

/// A session backend on `db`, or `None` when its server is left out.
async fn sessions(db: Db) -> Option<SeaOrmSessionBackend> {
    let url = url(db)?;
    let sessions = SeaOrmSessionBackend::connect(&url).await;
    Some(sessions.unwrap_or_else(|e| panic!("connecting to {db:?}: {}", common::chain(&e))))
}

mod sqlite_file {
    use super::{Db, sessions, store};
    auth_core::store_conformance_tests!(store(Db::SqliteFile).await);
    mod sessions {
        use super::{Db, sessions};
        auth_core::session_conformance_tests!(sessions(Db::SqliteFile).await);
    }
    mod tokens {
        use super::{Db, store};
        auth_core::one_time_token_conformance_tests!(store(Db::SqliteFile).await);
    }
    mod admin {
        use super::{Db, store};
        auth_core::admin_conformance_tests!(store(Db::SqliteFile).await);
    }
    mod factors {
        use super::{Db, store};
        auth_core::second_factor_conformance_tests!(store(Db::SqliteFile).await);
    }
}

mod sqlite_memory {
    use super::{Db, sessions, store};
    auth_core::store_conformance_tests!(store(Db::SqliteMemory).await);
    mod sessions {
        use super::{Db, sessions};
        auth_core::session_conformance_tests!(sessions(Db::SqliteMemory).await);
    }
    mod tokens {
        use super::{Db, store};
        auth_core::one_time_token_conformance_tests!(store(Db::SqliteMemory).await);
    }
    mod admin {
        use super::{Db, store};
        auth_core::admin_conformance_tests!(store(Db::SqliteMemory).await);
    }
    mod factors {
        use super::{Db, store};
        auth_core::second_factor_conformance_tests!(store(Db::SqliteMemory).await);
    }
}

mod postgres {
    use super::{Db, sessions, store};
    auth_core::store_conformance_tests!(store(Db::Postgres).await);
    mod sessions {
        use super::{Db, sessions};
        auth_core::session_conformance_tests!(sessions(Db::Postgres).await);
    }
    mod tokens {
        use super::{Db, store};
        auth_core::one_time_token_conformance_tests!(store(Db::Postgres).await);
    }
    mod admin {
        use super::{Db, store};
        auth_core::admin_conformance_tests!(store(Db::Postgres).await);
    }
    mod factors {
        use super::{Db, store};
        auth_core::second_factor_conformance_tests!(store(Db::Postgres).await);
    }
}

mod mysql {
    use super::{Db, sessions, store};
    auth_core::store_conformance_tests!(store(Db::Mysql).await);
    mod sessions {
        use super::{Db, sessions};
        auth_core::session_conformance_tests!(sessions(Db::Mysql).await);
    }
    mod tokens {
        use super::{Db, store};
        auth_core::one_time_token_conformance_tests!(store(Db::Mysql).await);
    }
    mod admin {
        use super::{Db, store};
        auth_core::admin_conformance_tests!(store(Db::Mysql).await);
    }
    mod factors {
        use super::{Db, store};
        auth_core::second_factor_conformance_tests!(store(Db::Mysql).await);
    }
}

/// The store, its tokens and a session backend sharing one connection all
/// pass, at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_connection_runs_every_suite() {
    let store = SeaOrmAuthStore::connect("sqlite::memory:")
        .await
        .expect("connect");
    let sessions = store.session_backend();
    futures_util::future::join5(
        store_conformance(&store),
        session_conformance(&sessions),
        one_time_token_conformance(&store),
        admin_conformance(&store),
        second_factor_conformance(&store),
    )
    .await;
}
