from qijia.screening import cli


def test_gen_bundle_into_a_non_empty_folder_exits_2_with_a_chinese_reason(tmp_path, capsys):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert cli.main(["gen-bundle", str(out), "--scale", "small"]) == 2
    assert "已存在且不为空" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
