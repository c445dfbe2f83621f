"""User YAML: a repeated key and an alias are errors naming the file and line; an impossible date stays text."""
import pytest

from ashare_sim.common.errors import UserError
from ashare_sim.common.yamlfile import parse_yaml, read_yaml_file


def test_a_key_given_twice_is_an_error_not_the_last_one_winning():
    with pytest.raises(UserError, match="c.yaml line 3: not valid YAML: key 'cash' appears twice in one mapping"):
        parse_yaml("broker:\n  cash: 1e7\n  cash: 2e7\n", "c.yaml")


def test_aliases_are_refused_so_an_alias_bomb_cannot_expand():
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"
    with pytest.raises(UserError, match="line 2: not valid YAML: alias \\*a: aliases are not accepted"):
        parse_yaml(bomb, "g.yaml")


def test_an_impossible_date_stays_text_for_the_config_to_name_its_key():
    assert parse_yaml("start: 2020-02-30\nend: 2020-03-02\n", "c.yaml") == {"start": "2020-02-30",
                                                                           "end": __import__("datetime").date(2020, 3, 2)}


def test_unreadable_files_are_one_line(tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00broker: 1")
    with pytest.raises(UserError, match="--grid .*bin.yaml: not UTF-8 text; save it as UTF-8"):
        read_yaml_file(tmp_path / "bin.yaml", "--grid")
    with pytest.raises(UserError, match="--grid .*none.yaml: no such file"):
        read_yaml_file(tmp_path / "none.yaml", "--grid")
    with pytest.raises(UserError, match="is a directory"):
        read_yaml_file(tmp_path, "--grid")
