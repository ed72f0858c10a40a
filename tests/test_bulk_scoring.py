"""The vectorized scorer agrees with the one-response engine, response by response."""

import math

import numpy as np
import pytest

from communitas.outcomes.bulk import score_matrix
from communitas.outcomes.definitions import builtin_instruments, get_builtin
from communitas.outcomes.scoring import ScoringError, score


def _random_answers(instrument, n, rng):
    columns = []
    for item in instrument.items:
        rs = instrument.response_set_for(item)
        if rs.type == "choice":
            columns.append(rng.choice([o.value for o in rs.options], size=n))
        else:
            columns.append(rng.integers(int(rs.low), int(rs.high) + 1, size=n).astype(float))
    answers = np.column_stack(columns).astype(float)
    answers[rng.random((n, len(instrument.items))) < 0.03] = np.nan
    return answers


@pytest.mark.parametrize("code", sorted(builtin_instruments()))
def test_it_agrees_with_the_single_response_engine(code):
    instrument = get_builtin(code)
    rng = np.random.default_rng(7)
    answers = _random_answers(instrument, 400, rng)
    bulk = score_matrix(instrument, answers)
    for row in range(len(answers)):
        single = score(
            instrument,
            {i.id: (None if math.isnan(v) else v) for i, v in zip(instrument.items, answers[row], strict=True)},
        )
        assert bulk.complete[row] == single.complete, row
        if single.total is None:
            assert math.isnan(bulk.total[row]), row
        else:
            assert bulk.total[row] == pytest.approx(single.total), row
        band = instrument.bands[bulk.band[row]].code if bulk.band[row] >= 0 else None
        assert band == single.band, row
        assert sorted(c for c, hits in bulk.flags.items() if hits[row]) == sorted(single.flags), row


def test_it_works_across_chunk_boundaries():
    phq9 = get_builtin("phq9")
    answers = np.full((40_000, 10), 1.0)
    answers[:, 9] = np.nan
    answers[33_000, 2] = np.nan
    result = score_matrix(phq9, answers)
    assert result.total[0] == 9 and result.total[-1] == 9
    assert np.isnan(result.total[33_000]) and result.complete.sum() == 39_999


@pytest.mark.parametrize(
    ("value", "message"), [(4.0, "out of range"), (1.5, "not an allowed answer"), (-1.0, "out of range")]
)
def test_it_names_the_row_and_item_of_a_bad_answer(value, message):
    phq9 = get_builtin("phq9")
    answers = np.zeros((20_000, 10))
    answers[17_001, 4] = value
    with pytest.raises(ScoringError, match=rf"row 17001, item 5: .*{message}"):
        score_matrix(phq9, answers)


def test_it_refuses_the_wrong_shape():
    with pytest.raises(ScoringError, match="expected shape"):
        score_matrix(get_builtin("phq9"), np.zeros((3, 4)))
