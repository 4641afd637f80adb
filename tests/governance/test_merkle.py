"""The Merkle log agrees with RFC 6962 and the Certificate Transparency reference vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pmed.governance import merkle

VECTORS = json.loads(
    (Path(__file__).parents[1] / "data" / "governance" / "rfc6962_vectors.json").read_text()
)
LEAVES = [merkle.leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves_hex"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]


def test_tree_heads_match_the_ct_reference_for_every_size_0_to_8() -> None:
    for n in range(9):
        assert merkle.tree_root(LEAVES[:n]) == ROOTS[n], n


def test_frontier_resumes_from_its_saved_hashes() -> None:
    f = merkle.Frontier()
    f.extend(LEAVES[:5])
    resumed = merkle.Frontier(f.size, list(f.hashes))
    resumed.extend(LEAVES[5:])
    assert resumed.root() == ROOTS[8]
    with pytest.raises(ValueError):
        merkle.Frontier(3, [ROOTS[1]])


@pytest.mark.parametrize("vec", VECTORS["inclusion"], ids=lambda v: f"{v['leaf']}-{v['size']}")
def test_inclusion_proofs_match_the_ct_reference(vec: dict) -> None:
    leaves = LEAVES[: vec["size"]]
    proof = [bytes.fromhex(p) for p in vec["proof"]]
    assert merkle.inclusion_proof(vec["leaf"], leaves) == proof
    assert merkle.verify_inclusion(
        vec["leaf"], vec["size"], leaves[vec["leaf"]], proof, ROOTS[vec["size"]]
    )


@pytest.mark.parametrize("vec", VECTORS["consistency"], ids=lambda v: f"{v['size1']}-{v['size2']}")
def test_consistency_proofs_match_the_ct_reference(vec: dict) -> None:
    s1, s2 = vec["size1"], vec["size2"]
    proof = [bytes.fromhex(p) for p in vec["proof"]]
    assert merkle.consistency_proof(s1, LEAVES[:s2]) == proof
    assert merkle.verify_consistency(s1, s2, proof, ROOTS[s1], ROOTS[s2])


@pytest.mark.parametrize("vec", VECTORS["inclusion"][:4], ids=lambda v: f"{v['leaf']}-{v['size']}")
def test_corrupted_inclusion_proofs_are_rejected(vec: dict) -> None:
    i, n = vec["leaf"], vec["size"]
    proof = [bytes.fromhex(p) for p in vec["proof"]]
    root, leaf = ROOTS[n], LEAVES[i]
    some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    bad = [
        (i - 1, n, leaf, proof, root),
        (i + 1, n, leaf, proof, root),
        (i ^ 2, n, leaf, proof, root),
        (i, n * 2, leaf, proof, root),
        (i, n // 2, leaf, proof, root),
        (i, n, b"WrongLeaf", proof, root),
        (i, n, leaf, proof, merkle.EMPTY_ROOT),
        (i, n, leaf, proof, some),
        (i, n, leaf, [*proof, b""], root),
        (i, n, leaf, [*proof, root], root),
        (i, n, leaf, [b"", *proof], root),
        (i, n, leaf, [root, *proof], root),
        (i, n, leaf, proof[:-1], root),
        (i, n, leaf, [proof[0], some, *proof[1:]], root),
    ]
    for k in range(len(proof)):
        flipped = list(proof)
        flipped[k] = bytes([flipped[k][0] ^ 8]) + flipped[k][1:]
        bad.append((i, n, leaf, flipped, root))
    for case in bad:
        assert not merkle.verify_inclusion(*case), case[:2]


@pytest.mark.parametrize(
    "vec", VECTORS["consistency"][1:], ids=lambda v: f"{v['size1']}-{v['size2']}"
)
def test_corrupted_consistency_proofs_are_rejected(vec: dict) -> None:
    s1, s2 = vec["size1"], vec["size2"]
    proof = [bytes.fromhex(p) for p in vec["proof"]]
    r1, r2 = ROOTS[s1], ROOTS[s2]
    bad = [
        (s1 - 1, s2, proof, r1, r2),
        (s1 + 1, s2, proof, r1, r2),
        (s1 ^ 2, s2, proof, r1, r2),
        (s1, s2 * 2, proof, r1, r2),
        (s1, s2 // 2, proof, r1, r2),
        (s1, s2, proof, b"WrongRoot", r2),
        (s1, s2, proof, r1, b"WrongRoot"),
        (s1, s2, proof, r2, r1),
        (s1, s2, [], r1, r2),
        (s1, s2, [*proof, b""], r1, r2),
        (s1, s2, [*proof, r1], r1, r2),
        (s1, s2, [*proof, r2], r1, r2),
        (s1, s2, [b"", *proof], r1, r2),
        (s1, s2, [r1, *proof], r1, r2),
        (s1, s2, [r2, *proof], r1, r2),
        (s1, s2, [proof[0], *proof], r1, r2),
        (s1, s2, proof[:-1], r1, r2),
    ]
    for k in range(len(proof)):
        flipped = list(proof)
        flipped[k] = bytes([flipped[k][0] ^ 16]) + flipped[k][1:]
        bad.append((s1, s2, flipped, r1, r2))
    for case in bad:
        assert not merkle.verify_consistency(*case), case[:2]


def test_every_proof_round_trips_in_ragged_trees() -> None:
    leaves = [merkle.leaf_hash(bytes([i, i * 7 % 256])) for i in range(37)]
    for n in range(1, 38):
        root = merkle.tree_root(leaves[:n])
        for i in range(n):
            proof = merkle.inclusion_proof(i, leaves[:n])
            assert merkle.verify_inclusion(i, n, leaves[i], proof, root)
        for m in range(0, n + 1):
            proof = merkle.consistency_proof(m, leaves[:n])
            assert merkle.verify_consistency(m, n, proof, merkle.tree_root(leaves[:m]), root)
