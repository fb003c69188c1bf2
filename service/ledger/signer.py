"""The log's signing key: checkpoints are signed as C2SP signed notes with Ed25519."""
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.core.ledger import note


class Signer:
    """Signs checkpoints as `origin`. A key file is read (or created, mode 0600) only on first use,
    so commands that never sign, such as verifying a bundle, never create a private key."""

    def __init__(self, origin: str, private_key: Ed25519PrivateKey | None = None, key_path: str | None = None):
        if (private_key is None) == (key_path is None):
            raise ValueError("give a private key or a key file, not both")
        self.origin, self.key_path = origin, key_path
        if private_key is not None:
            self.__dict__["private_key"] = private_key

    @cached_property
    def private_key(self) -> Ed25519PrivateKey:
        return note.load_or_create_signing_key(self.key_path)

    @property
    def verifier_key(self) -> str:
        return note.verifier_key(self.origin, self.private_key.public_key())

    def sign(self, tree_size: int, root_hash: bytes) -> str:
        return note.sign_note(note.checkpoint_body(self.origin, tree_size, root_hash), self.origin, self.private_key)
