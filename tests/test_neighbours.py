"""The vote of the nearest labelled questions (knowledge.neighbours), on a real FAISS index."""

import math
import mmap
from dataclasses import replace

import numpy as np
import pytest

from knowledge.neighbours import NeighbourVote, vote
from knowledge.search import FEATURES, FLAT, SearchParams, in_scope_probability


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_vote_weighs_the_nearest_by_similarity():
    similarities = np.array([0.9, 0.8, 0.7] + [0.5] * 27)
    outside = np.array([True, False, True] + [False] * 27)
    close, wide, gap = vote(similarities, outside)
    assert close == pytest.approx((0.9 + 0.7) / (0.9 + 0.8 + 0.7 + 0.5 * 7))
    assert wide == pytest.approx((0.9 + 0.7) / (0.9 + 0.8 + 0.7 + 0.5 * 27))
    assert gap == pytest.approx(0.9 - 0.8)


def test_a_side_without_neighbours_counts_at_the_farthest_one():
    similarities = np.linspace(0.9, 0.6, 30)
    assert vote(similarities, np.zeros(30, dtype=bool)) == pytest.approx((0.0, 0.0, 0.6 - 0.9))
    assert vote(similarities, np.ones(30, dtype=bool)) == pytest.approx((1.0, 1.0, 0.9 - 0.6))
    assert all(math.isnan(v) for v in vote(np.array([]), np.array([], dtype=bool)))


def test_the_index_finds_the_pocket_a_message_falls_in():
    rng = np.random.default_rng(0)
    inside_centre, outside_centre = _unit(rng.normal(size=(2, 16)))
    inside = _unit(inside_centre + 0.1 * rng.normal(size=(40, 16)))
    outside = _unit(outside_centre + 0.1 * rng.normal(size=(40, 16)))
    neighbours = NeighbourVote(np.vstack([inside, outside]), np.array([False] * 40 + [True] * 40))
    near_outside = neighbours.signals(_unit(outside_centre[None])[0])
    near_inside = neighbours.signals(_unit(inside_centre[None])[0])
    assert near_outside[:2] == pytest.approx((1.0, 1.0)) and near_inside[:2] == pytest.approx((0.0, 0.0))
    assert near_outside[2] > 0 > near_inside[2]
    between = neighbours.signals(_unit((inside_centre + outside_centre)[None])[0])
    assert 0.0 < between[1] < 1.0  # halfway, the wider neighbourhood takes in both pockets


def test_no_labelled_questions_gives_no_vote_and_no_effect():
    signals = NeighbourVote(np.zeros((0, 16), np.float32), np.zeros(0, dtype=bool)).signals(np.ones(16))
    assert all(math.isnan(v) for v in signals)
    strong = ((0.0, 1.0), (-5.0, 5.0))  # a vote curve that would move the decision a lot
    params = replace(SearchParams(), abstention_curves=(FLAT,) * 10 + (strong,) * 3, abstention_bias=0.0)
    assert len(params.abstention_curves) == len(FEATURES)
    assert in_scope_probability((0.5,) * 10 + signals, params) == 0.5
    assert in_scope_probability((0.5,) * 10 + (1.0, 1.0, 1.0), params) > 0.99
    with pytest.raises(ValueError):
        NeighbourVote(np.zeros((3, 16), np.float32), np.zeros(2, dtype=bool))


def test_mapped_vectors_stay_readable_after_the_vote_copied_them(tmp_path):
    rng = np.random.default_rng(1)
    vectors = _unit(rng.normal(size=(50, 16)))
    np.save(tmp_path / "vectors.npy", vectors)
    mapped = np.load(tmp_path / "vectors.npy", mmap_mode="r")
    assert isinstance(mapped._mmap, mmap.mmap)  # the mapping the vote lets go of; numpy could rename it
    neighbours = NeighbourVote(mapped, np.arange(50) % 2 == 0)
    assert np.array_equal(np.asarray(mapped), vectors)  # tuning reads them again after the searcher was built
    assert neighbours.signals(vectors[0])[2] > 0  # its own copy is the nearest, and it is outside
