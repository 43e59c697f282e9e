"""A real SFTP server for tests: asyncssh in its own event loop in a background thread, on
127.0.0.1 with a free port, a host key made on the fly, password and public-key login, serving
one folder (chroot). ``drop_after`` makes the server abort the connection in the middle of a
transfer once (after that many bytes were read)."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import asyncssh


class SftpTestServer:
    def __init__(self, root: Path, *, user: str = "jugendamt", password: str = "geheim",
                 host_key: asyncssh.SSHKey | None = None, client_pubkey: asyncssh.SSHKey | None = None,
                 port: int = 0):
        self.root = Path(root)
        self.user, self.password = user, password
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.client_pubkey = client_pubkey
        self.drop_after: int | None = None
        self.dropped = 0
        self.logins = 0
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._acceptor = None

    # ---- lifecycle
    def start(self) -> SftpTestServer:
        self._thread.start()
        self._acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(30)
        self.port = self._acceptor.get_port()
        return self

    def stop(self) -> None:
        """Stop listening and end the event loop (a second call does nothing)."""
        if not self._thread.is_alive():
            return

        async def _close():
            self._acceptor.close()
            await self._acceptor.wait_closed()
        asyncio.run_coroutine_threadsafe(_close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def known_hosts_line(self) -> str:
        """As ``ssh-keyscan -p PORT 127.0.0.1`` prints it."""
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().split()[0]} " \
               f"{self.host_key.export_public_key().decode().split()[1]}"

    async def _listen(self):
        server = self

        class Auth(asyncssh.SSHServer):
            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                ok = username == server.user and password == server.password
                server.logins += ok
                return ok

            def public_key_auth_supported(self):
                return server.client_pubkey is not None

            def validate_public_key(self, username, key):
                ok = username == server.user and server.client_pubkey is not None and \
                    key.public_data == server.client_pubkey.public_data
                server.logins += ok
                return ok

        class Sftp(asyncssh.SFTPServer):
            def __init__(self, chan):
                super().__init__(chan, chroot=str(server.root).encode())
                self._sent = 0

            def read(self, file_obj, offset, size):
                data = super().read(file_obj, offset, size)
                self._sent += len(data)
                if server.drop_after is not None and self._sent > server.drop_after:
                    server.drop_after = None
                    server.dropped += 1
                    self.connection.abort()  # the line goes dead in the middle of the file
                return data

        return await asyncssh.listen("127.0.0.1", self._port, server_host_keys=[self.host_key],
                                     server_factory=Auth, sftp_factory=Sftp, allow_scp=False,
                                     process_factory=None)


def free_port_nobody_listens_on() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
