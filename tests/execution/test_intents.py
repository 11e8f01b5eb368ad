import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scarline.execution.intents import _intents_numpy, intents_from_targets

grids = hnp.arrays(np.int64, (3, 2), elements=st.integers(-20, 20))


@settings(deadline=None)  # the first example may load the compiled pass
@given(grids, grids, grids)
def test_intents_move_holdings_exactly_to_target(target, position, pending) -> None:
    orders = intents_from_targets(target, position, pending, step=5, first_order_id=100)
    moved = position + pending
    np.add.at(moved, (orders.agent, orders.instrument), orders.side.astype(np.int64) * orders.qty)
    np.testing.assert_array_equal(moved, target)
    assert np.all(orders.qty > 0)
    assert orders.order_id.tolist() == list(range(100, 100 + len(orders)))
    held = (position + pending)[orders.agent, orders.instrument]
    # a reducing order never takes |holdings| past zero
    red = orders.reducing
    assert np.all(orders.qty[red] <= np.abs(held[red]))
    assert np.all(np.sign(orders.side[red]) == -np.sign(held[red]))


def test_flip_is_split_into_close_then_open() -> None:
    orders = intents_from_targets(np.array([[-3]]), np.array([[5]]), np.array([[0]]), 0, 0)
    assert orders.qty.tolist() == [5, 3]
    assert orders.reducing.tolist() == [True, False]
    assert orders.side.tolist() == [-1, -1]


@settings(deadline=None)  # the first example may load the compiled pass
@given(grids, grids, grids, hnp.arrays(bool, (3, 2)))
def test_cells_form_equals_the_mask_form(target, position, pending, where) -> None:
    by_mask = intents_from_targets(target, position, pending, 5, 100, where=where)
    by_cells = intents_from_targets(target, position, pending, 5, 100, cells=np.nonzero(where))
    for field in by_mask.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(by_mask, field), getattr(by_cells, field))


wide = hnp.arrays(np.int64, (4, 3), elements=st.integers(-(2**40), 2**40))


@settings(deadline=None)  # the first example may load the compiled pass
@given(st.one_of(st.tuples(grids, grids, grids), st.tuples(wide, wide, wide)), st.data())
def test_the_compiled_pass_equals_the_numpy_reference(grids3, data) -> None:
    target, position, pending = grids3
    where = data.draw(hnp.arrays(bool, target.shape))
    cells = np.nonzero(where)
    got = intents_from_targets(target, position, pending, 5, 100, cells=cells)
    want = _intents_numpy(target, position, pending, 5, 100, cells)
    for field in want.__dataclass_fields__:
        x, y = getattr(got, field), getattr(want, field)
        assert x.dtype == y.dtype, field
        np.testing.assert_array_equal(x, y, err_msg=field)
