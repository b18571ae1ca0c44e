"""A real SMTP server for the tests, on aiosmtpd.

Listens on a free port of 127.0.0.1 in one of three modes (plain, starttls, smtps),
optionally requiring AUTH, and writes each accepted message to OUT as
N.eml (the message as received), N.txt and N.html (its decoded plain-text
and HTML bodies, when it has them) and, last, N.json (the envelope and the
login), so a reader that sees N.json sees the whole message.
Prints READY and the port once it accepts connections; runs until killed.
It picks the port itself and tries again when another process takes it
between the pick and the bind, so parallel tests never collide.
"""

import argparse
import email
import email.policy
import json
import pathlib
import socket
import ssl
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Save:
    def __init__(self, out):
        self.out = pathlib.Path(out)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        n = self.count
        (self.out / f"{n}.eml").write_bytes(envelope.original_content)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        for kind in ("plain", "html"):
            part = message.get_body(preferencelist=(kind,))
            if part is not None:
                suffix = "txt" if kind == "plain" else "html"
                (self.out / f"{n}.{suffix}").write_text(part.get_content())
        (self.out / f"{n}.json.tmp").write_text(
            json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "login": login})
        )
        (self.out / f"{n}.json.tmp").rename(self.out / f"{n}.json")
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        ):
            return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)

    return check


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["plain", "starttls", "smtps"], required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    options = {}
    if args.user:
        options["authenticator"] = authenticator(args.user, args.password)
        options["auth_required"] = True
        # With SMTPS the whole connection is TLS, but aiosmtpd only knows
        # about STARTTLS; it must not hide AUTH there.
        options["auth_require_tls"] = args.mode == "starttls"
    if args.mode == "starttls":
        options["tls_context"] = context
        options["require_starttls"] = True
    if args.mode == "smtps":
        options["ssl_context"] = context
    for attempt in range(20):
        controller = Controller(
            Save(args.out), hostname="127.0.0.1", port=free_port(), server_hostname="localhost", **options
        )
        try:
            controller.start()
            break
        except OSError:
            if attempt == 19:
                raise
    print("READY", controller.port, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
