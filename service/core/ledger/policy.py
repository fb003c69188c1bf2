"""C2SP tlog-policy: which logs and witnesses are trusted, and which cosignatures make a quorum."""
from dataclasses import dataclass, field

from service.core.ledger import cosignature, note


class PolicyError(ValueError):
    """A policy file that does not follow tlog-policy."""


@dataclass(frozen=True)
class Witness:
    name: str  # the policy's own name for it, used by groups and the quorum line
    vkey: str  # cosignature/v1 verifier key: its key name is what signature lines carry
    url: str | None  # the submission prefix, for a log that asks it to cosign


@dataclass(frozen=True)
class Group:
    threshold: int
    members: tuple[str, ...]


@dataclass
class Policy:
    logs: list[str] = field(default_factory=list)  # verifier keys of trusted logs
    witnesses: dict[str, Witness] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = "none"

    @property
    def needs_witnesses(self) -> bool:
        return self.quorum != "none"

    def witness_keys(self) -> dict[str, str]:
        return {name: w.vkey for name, w in self.witnesses.items()}

    def satisfied_by(self, cosigned: set[str]) -> bool:
        """Whether cosignatures by these witnesses (policy names) meet the quorum."""
        return self._met(self.quorum, cosigned)

    def _met(self, name: str, cosigned: set[str]) -> bool:
        if name == "none":
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self._met(member, cosigned) for member in group.members) >= group.threshold

    def log_named(self, origin: str) -> list[str]:
        """The trusted log keys whose key name is this origin (tlog-policy: the name is the origin)."""
        return [vkey for vkey in self.logs if vkey.partition("+")[0] == origin]


def parse_policy(text: str) -> Policy:
    """Parse a policy file: log, witness, group and exactly one quorum line, names defined before use."""
    policy, quorum_lines = Policy(), 0
    keys = {"log": set(), "witness": set()}  # duplicates are refused within each kind
    for number, raw in enumerate(text.split("\n"), 1):
        if any(ord(ch) < 0x20 and ch != "\t" for ch in raw) or "\x7f" in raw:
            raise PolicyError(f"line {number}: control character")
        words = raw.replace("\t", " ").split()
        if not words or words[0].startswith("#"):
            continue
        where = f"line {number}"
        keyword, args = words[0], words[1:]
        if keyword == "log" and len(args) in (1, 2):
            _check_key(args[0], note.parse_verifier_key, keys["log"], where)
            policy.logs.append(args[0])
        elif keyword == "witness" and len(args) in (2, 3):
            _new_name(policy, args[0], where)
            _check_key(args[1], cosignature.parse_verifier_key, keys["witness"], where)
            policy.witnesses[args[0]] = Witness(args[0], args[1], args[2] if len(args) == 3 else None)
        elif keyword == "group" and len(args) >= 3:
            _new_name(policy, args[0], where)
            policy.groups[args[0]] = _group(policy, args[1], args[2:], where)
        elif keyword == "quorum" and len(args) == 1:
            if args[0] != "none" and not _defined(policy, args[0]):
                raise PolicyError(f"{where}: quorum names {args[0]!r}, not defined on an earlier line")
            policy.quorum, quorum_lines = args[0], quorum_lines + 1
        else:
            raise PolicyError(f"{where}: not a log, witness, group or quorum line: {raw.strip()!r}")
    if quorum_lines != 1:
        raise PolicyError(f"a policy has exactly one quorum line, this one has {quorum_lines}")
    return policy


def _group(policy: Policy, threshold: str, members: list[str], where: str) -> Group:
    if len(set(members)) != len(members):
        raise PolicyError(f"{where}: a member is listed twice")
    for member in members:
        if member == "none" or not _defined(policy, member):
            raise PolicyError(f"{where}: member {member!r} is not a witness or group defined earlier")
    if threshold == "all":
        k = len(members)
    elif threshold == "any":
        k = 1
    elif threshold.isdigit() and threshold == str(int(threshold)) and 1 <= int(threshold) <= len(members):
        k = int(threshold)
    else:
        raise PolicyError(f"{where}: threshold must be all, any or 1..{len(members)}")
    return Group(k, tuple(members))


def _defined(policy: Policy, name: str) -> bool:
    return name in policy.witnesses or name in policy.groups


def _new_name(policy: Policy, name: str, where: str) -> None:
    if name == "none" or _defined(policy, name):
        raise PolicyError(f"{where}: the name {name!r} is already defined")


def _check_key(vkey: str, parse, seen: set, where: str) -> None:
    try:
        _, _, public_key = parse(vkey)
    except note.NoteError as exc:
        raise PolicyError(f"{where}: {exc}") from exc
    raw = note._raw_public(public_key)  # noqa: SLF001 - duplicates are the same key under any name
    if raw in seen:
        raise PolicyError(f"{where}: the same public key is listed twice")
    seen.add(raw)
