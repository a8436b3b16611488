"""Generator building blocks without generating a bundle: identifiers, typed variants, the truth
oracle's identity and hub rules, expectation checking, the index hashes, argument errors."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qijia.core.identifiers import (
    is_valid_id_number,
    is_valid_uscc,
    normalize_email,
    normalize_id_number,
    normalize_invoice_part,
    normalize_phone,
    validate_invoice,
)
from qijia.screening.generator import GeneratorError, generate_bundle
from qijia.screening.generator.hashes import make_index_hashes
from qijia.screening.generator.ids import (
    Identifiers,
    org_code_check,
    typed_email,
    typed_id_number,
    typed_invoice_part,
    typed_phone,
)
from qijia.screening.generator.truth import (
    GeneratorBug,
    RelationOracle,
    check_expectations,
    compute_truth,
    merge_persons,
)
from qijia.screening.generator.vocab import load_reference
from qijia.screening.generator.world import AS_OF, World

seeds = st.integers(min_value=0, max_value=2**32)


@given(seeds)
def test_typed_phones_normalise_back_to_the_number(seed):
    ids = Identifiers(random.Random(seed))
    rng = random.Random(seed + 1)
    for number in (ids.mobile(), ids.landline()):
        assert normalize_phone(typed_phone(number, rng)) == number


@given(seeds)
def test_typed_invoice_parts_keep_leading_zeros_and_normalise_back(seed):
    ids = Identifiers(random.Random(seed))
    rng = random.Random(seed)
    for code, number in (ids.paper_invoice(2024), ids.digital_invoice(2024)):
        assert validate_invoice(code, number) == (code, number)
        typed = typed_invoice_part(number, rng)
        assert normalize_invoice_part(typed) == number
        assert normalize_invoice_part(typed_invoice_part(code, rng)) == code


@given(seeds)
def test_typed_id_numbers_and_emails_normalise_back(seed):
    ids = Identifiers(random.Random(seed))
    rng = random.Random(seed)
    number = ids.id_number()
    assert is_valid_id_number(number)
    assert normalize_id_number(typed_id_number(number, rng)) == number
    email = ids.person_email("zhangwei", 1985)
    assert normalize_email(typed_email(email, rng)) == email


@given(seeds)
def test_issued_codes_are_valid_and_broken_ones_fail(seed):
    ids = Identifiers(random.Random(seed))
    assert is_valid_uscc(ids.uscc())
    assert is_valid_uscc(ids.uscc(division="440300", kind="92", modern=False))
    for how in ("check", "charset", "length"):
        assert not is_valid_uscc(ids.broken_uscc(how))
    assert len(ids.old_tax_id()) == 15


def test_identifiers_are_never_issued_twice():
    ids = Identifiers(random.Random(3))
    codes = [ids.uscc() for _ in range(5000)]
    phones = [ids.mobile() for _ in range(5000)] + [ids.landline() for _ in range(5000)]
    assert len(set(codes)) == len(codes)
    assert len(set(phones)) == len(phones)


def test_organisation_code_check_matches_public_uscc_examples():
    # 91440300708461136T, 914403001922038216, 91330100799655058B (identifiers.md)
    assert org_code_check("70846113") == "6"
    assert org_code_check("19220382") == "1"
    assert org_code_check("79965505") == "8"


def test_persons_merge_by_id_number_or_by_name_with_a_shared_contact_only():
    rows = [
        ("张伟", "11010519491231002X", "13800000001", ""),
        ("张伟", "11010519491231002x", "", ""),  # same ID, lower-case x
        ("张伟", "440524198001010014", "13800000001", ""),  # namesake, other ID, same phone
        ("王芳", "", "138-0000-0002", ""),
        ("王芳", "", "+86 13800000002", ""),  # no IDs, same name, same phone
        ("王芳", "", "13800000003", "wf@qq.com"),  # no IDs, same name, nothing shared
        ("李娜", "", "", "LN@163.com"),
        ("李娜", "", "", "ln@163.com "),
    ]
    person = merge_persons(rows)
    assert person[0] == person[1] != person[2]
    assert person[3] == person[4] != person[5]
    assert person[6] == person[7]


def test_the_ambiguous_identity_case_is_refused_not_guessed():
    rows = [("张伟", "11010519491231002X", "13800000001", ""), ("张伟", "", "13800000001", "")]
    with pytest.raises(GeneratorBug):
        merge_persons(rows)


def _phone_world(firms_on_phone: int) -> tuple[World, list]:
    w = World(5, load_reference())
    line = w.ids.landline()
    firms = [w.new_firm(phone=line) for _ in range(firms_on_phone)]
    for firm in firms:
        w.staff(firm, lean=True)
    return w, firms


def test_a_phone_of_ten_enterprises_relates_them_and_of_eleven_is_a_hub():
    w, firms = _phone_world(10)
    assert "E:" + firms[-1].uscc in RelationOracle(w).distances(firms[0].uscc)
    w, firms = _phone_world(11)
    oracle = RelationOracle(w)
    assert oracle.hubs
    assert "E:" + firms[-1].uscc not in oracle.distances(firms[0].uscc)


def test_hub_counting_includes_enterprises_reached_through_persons():
    w, firms = _phone_world(5)
    line = w.firms[0].phone
    for _ in range(6):
        client = w.new_firm()
        w.add_role(w.new_person(phone=line), client, "finance_contact")
    assert RelationOracle(w).hubs == {"T:" + line}


def test_a_planted_case_the_rules_do_not_imply_fails_the_generation():
    w = World(5, load_reference())
    firm = w.new_firm()
    w.staff(firm)
    app = w.new_application(firm)
    w.add_invoice(app, w.outside_party())
    w.expect(app, "invoice_outside_period", "0|0", "made_up")
    with pytest.raises(GeneratorBug):
        check_expectations(w, compute_truth(w, AS_OF))
    w.expectations.clear()
    w.expect_not(app, "invoice_buyer_mismatch", "x", "decoy")
    check_expectations(w, compute_truth(w, AS_OF))


def test_index_hashes_plant_close_pairs_among_far_random_codes():
    codes, mirror, pairs = make_index_hashes(20_000, seed=2)
    again = make_index_hashes(20_000, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip((codes, mirror, pairs), again, strict=True))
    assert codes.shape == mirror.shape == (20_000, 11) and codes.dtype == np.uint64
    assert len(pairs) == 200 and len(np.unique(pairs)) == 400

    def closest(a, b):
        x = np.bitwise_count(codes[a][:, :, None] ^ codes[b][:, None, :]).min(axis=(1, 2))
        y = np.bitwise_count(codes[a][:, :, None] ^ mirror[b][:, None, :]).min(axis=(1, 2))
        return np.minimum(x, y)

    assert closest(pairs[:, 0], pairs[:, 1]).max() <= 8
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 20_000, 2000), rng.integers(0, 20_000, 2000)
    keep = a != b
    assert np.percentile(closest(a[keep], b[keep]), 1) > 11


def test_unknown_scale_and_a_foreign_folder_are_refused(tmp_path):
    with pytest.raises(GeneratorError, match="未知的规模"):
        generate_bundle(tmp_path / "x", "province", 1, progress=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(GeneratorError, match="已存在且不为空"):
        generate_bundle(tmp_path / "mine", "small", 1, progress=False, overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_ensure_bundle_reuses_a_matching_bundle_and_regenerates_a_stale_one(tmp_path, monkeypatch):
    import json

    import qijia.screening.generator as generator

    calls = []

    def fake_generate(out, scale, seed, progress=True, overwrite=False):
        calls.append((scale, seed))
        out.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": "qijia-truth",
            "scale": scale,
            "seed": seed,
            "generator_version": generator.GENERATOR_VERSION,
        }
        (out / "truth.json").write_text(json.dumps(doc), encoding="utf-8")
        return {"seconds": {"total": 1.0}}

    monkeypatch.setattr(generator, "generate_bundle", fake_generate)
    first = generator.ensure_bundle(tmp_path, "small", 3, progress=False)
    assert generator.ensure_bundle(tmp_path, "small", 3, progress=False) == first
    assert calls == [("small", 3)]
    assert (tmp_path / "small-seed3.generation.json").is_file()
    truth = first / "truth.json"
    truth.write_text(
        truth.read_text(encoding="utf-8").replace('"seed": 3', '"seed": 4'), encoding="utf-8"
    )
    generator.ensure_bundle(tmp_path, "small", 3, progress=False)
    assert calls == [("small", 3), ("small", 3)]


def test_a_decoy_shot_that_only_changes_the_light_is_replaced_by_a_real_other_shot():
    from PIL import Image, ImageEnhance

    from qijia.screening import photogen
    from qijia.screening.generator.photoset import (
        MIN_CHANGED_SHARE,
        changed_share,
        different_shot,
    )

    original = photogen.source_photo(50, (200, 150))
    assert changed_share(original, ImageEnhance.Brightness(original).enhance(1.2)) < 0.02
    assert changed_share(original, Image.new("RGB", (200, 150), (40, 90, 200))) > 0.3
    decoy = different_shot(50, "other_moment", (200, 150), original)
    assert changed_share(original, decoy) >= MIN_CHANGED_SHARE
