"""The layer's words put into the model's table HTML where they fit, and nowhere else."""

from langchain_dotsocr.read.tablewords import with_layer_words

TABLE = "<table><tr><th>Regi0n</th><th>Sales</th></tr><tr><td>North</td><td>1.26</td></tr></table>"


def test_a_misread_word_takes_the_layers_word():
    fixed = with_layer_words(TABLE, ["Region", "Sales", "North", "1.26"])
    assert fixed == TABLE.replace("Regi0n", "Region")


def test_a_word_the_layer_holds_is_never_changed():
    layer = ["Regi0n", "Sales", "North", "1.26", "1.25"]
    assert with_layer_words(TABLE, layer) == TABLE


def test_an_ambiguous_misreading_is_left_as_the_model_read_it():
    # "1.26" is as close to "1.25" as to "1.28": no telling which the page prints
    assert "<td>1.26</td>" in with_layer_words(TABLE, ["Region", "Sales", "North", "1.25", "1.28"])


def test_a_word_far_from_every_layer_word_stays():
    assert "<td>North</td>" in with_layer_words(TABLE, ["Region", "Sales", "South", "1.26"])


def test_cells_with_markup_and_entities_are_kept_and_written_back_escaped():
    table = "<table><tr><td>R&amp;D <b>x</b></td><td>Barre1 &amp; bar</td></tr></table>"
    fixed = with_layer_words(table, ["R&D", "Barrel", "&", "bar"])
    assert fixed == "<table><tr><td>R&amp;D <b>x</b></td><td>Barrel &amp; bar</td></tr></table>"


def test_no_layer_words_no_change():
    assert with_layer_words(TABLE, []) == TABLE
