"""C2SP tlog-tiles: tile paths, widths and the entry bundle encoding (tiles are 256 hashes, height 8)."""
import re
import struct

from service.core.ledger.merkle import HASH_SIZE

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle prefixes each entry with its length as a big-endian uint16
ENTRIES = "entries"
_INDEX = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}")
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


class TileError(ValueError):
    """A tile path that is not of the tlog-tiles form, or bytes that are not a tile or bundle."""


def index_path(n: int) -> str:
    """1234067 -> 'x001/x234/067': three-digit elements, all but the last prefixed with x."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{p}" for p in parts[:-1]] + [parts[-1]])


def tile_path(level: int | str, n: int, width: int = TILE_WIDTH) -> str:
    """'tile/<L>/<N>[.p/<W>]'; level ENTRIES gives the entry bundle's path."""
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{index_path(n)}{suffix}"


def parse_index(text: str) -> tuple[int, int]:
    """(N, W) from '<N>[.p/<W>]' as tile paths write them; full tiles have W = 256."""
    index, dot, width = text.partition(".p/")
    if not _INDEX.fullmatch(index) or (dot and not _WIDTH.fullmatch(width)):
        raise TileError(f"{text!r} is not a tile index of the form x001/x234/067[.p/W]")
    w = int(width) if dot else TILE_WIDTH
    if not 1 <= w < TILE_WIDTH and dot:
        raise TileError("a partial tile's width is between 1 and 255")
    n = int(index.replace("x", "").replace("/", ""))
    if index_path(n) != index:  # e.g. x000/001 has a leading zero element
        raise TileError(f"{index!r} is not the canonical path of tile {n}")
    return n, w


def parse_level(text: str) -> int:
    if not _LEVEL.fullmatch(text) or int(text) > MAX_LEVEL:
        raise TileError(f"tile level {text!r} must be a decimal between 0 and {MAX_LEVEL}")
    return int(text)


def available_width(level: int, n: int, tree_size: int) -> int:
    """How many hashes of tile n at `level` a tree of tree_size leaves has (0 to 256)."""
    hashes_at_level = tree_size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, hashes_at_level - n * TILE_WIDTH))


def tile_node_level(level: int) -> int:
    """A level-L tile holds the Merkle nodes 8·L levels above the leaves (subtrees of 256**L leaves)."""
    return TILE_HEIGHT * level


def split_hashes(tile: bytes) -> list[bytes]:
    if len(tile) % HASH_SIZE or not tile:
        raise TileError(f"a tile is a non-empty sequence of {HASH_SIZE}-byte hashes, not {len(tile)} bytes")
    return [tile[i:i + HASH_SIZE] for i in range(0, len(tile), HASH_SIZE)]


def encode_bundle(entries: list[bytes]) -> bytes:
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise TileError(f"an entry of {len(entry)} bytes does not fit an entry bundle's uint16 length")
        parts.append(struct.pack(">H", len(entry)) + entry)
    return b"".join(parts)


def decode_bundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError("an entry bundle ends inside a length prefix")
        (length,) = struct.unpack_from(">H", data, at)
        if at + 2 + length > len(data):
            raise TileError("an entry bundle ends inside an entry")
        entries.append(data[at + 2:at + 2 + length])
        at += 2 + length
    return entries
