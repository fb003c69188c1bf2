"""The ledger as tlog-tiles: hash tiles read from tree_nodes, entry bundles from the entries' canonical bytes."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.core.ledger import tiles
from service.ledger.tables import Leaf, LedgerEntry, TreeNode


def _require(level, n: int, width: int, tree_size: int) -> None:
    # Every hash of a tile of width W is a complete subtree of the signed tree, so the tile's bytes
    # never change: partial tiles are as immutable as full ones, and any W up to what is signed is served.
    have = tiles.available_width(0 if level == tiles.ENTRIES else level, n, tree_size)
    if width > have:
        raise NotFound(f"{tiles.tile_path(level, n, width)} is beyond the latest checkpoint "
                       f"(tree size {tree_size}); this tile has {have} hashes so far")


def hash_tile(session: Session, level: int, n: int, width: int, tree_size: int) -> bytes:
    """Tile n at `level`: the hashes of complete subtrees of 256**level leaves, width of them."""
    _require(level, n, width, tree_size)
    first = n * tiles.TILE_WIDTH
    hashes = session.scalars(select(TreeNode.hash).where(TreeNode.level == tiles.tile_node_level(level),
                                                         TreeNode.index >= first, TreeNode.index < first + width)
                             .order_by(TreeNode.index)).all()
    if len(hashes) != width:
        raise LookupError(f"tree_nodes lacks hashes of tile {level}/{n}: {len(hashes)} of {width}")
    return b"".join(hashes)


def entry_bundle(session: Session, n: int, width: int, tree_size: int) -> bytes:
    """Entry bundle n: each entry's canonical bytes, length-prefixed, in leaf order."""
    _require(tiles.ENTRIES, n, width, tree_size)
    first = n * tiles.TILE_WIDTH
    entries = session.scalars(select(LedgerEntry.canonical).join(Leaf, Leaf.entry_id == LedgerEntry.id)
                              .where(Leaf.leaf_index >= first, Leaf.leaf_index < first + width)
                              .order_by(Leaf.leaf_index)).all()
    if len(entries) != width:
        raise LookupError(f"ledger_leaves lacks entries of bundle {n}: {len(entries)} of {width}")
    for offset, entry in enumerate(entries):
        if len(entry) > tiles.MAX_ENTRY_BYTES:
            # tlog-tiles has no encoding for it: say where the entry can be read instead.
            raise NotFound(f"entry {first + offset} is {len(entry)} bytes, more than the {tiles.MAX_ENTRY_BYTES} "
                           f"an entry bundle can hold; read it at /v1/ledger/entries/{first + offset}")
    return tiles.encode_bundle(entries)
