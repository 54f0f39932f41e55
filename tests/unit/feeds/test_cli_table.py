"""The plain-text tables `oms feeds` prints."""

from service.cli.feeds import format_table


def test_columns_are_padded_to_their_widest_cell():
    table = format_table(["source", "status"], [["a-long-name.csv", "ok"], ["b.csv", "refused"]])
    assert table.splitlines() == [
        "source           status",
        "---------------  -------",
        "a-long-name.csv  ok",
        "b.csv            refused",
    ]
