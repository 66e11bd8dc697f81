"""Burmese text, numbers and rules (issue 16): pure functions with golden values, no Beam."""

from __future__ import annotations

import pickle

import pytest
from myanmar.converter import convert

from newswatch.transforms.mentions.burmese import burmese_mentions, match_form, sentences
from newswatch.transforms.mentions.burmese_numbers import find_counts, parse_number
from newswatch.transforms.shared.burmese_text import (
    detect_language, fix_order, min_words_for, syllable_count, to_unicode, word_count)
from newswatch.transforms.mentions.step import build_nlp, extract_article


@pytest.fixture(scope="module")
def nlp():
    return build_nlp()


# ------------------------------------------------------------------ encoding, language, syllables

def test_zawgyi_lines_become_unicode_and_mixed_pages_keep_their_english():
    assert to_unicode("ျမန္မာ") == ("မြန်မာ", "zawgyi")
    text = "Three soldiers defect\n" + convert("စစ်သား သုံးဦး ပြည်သူ့ရင်ခွင်သို့ ရောက်ရှိ", "unicode", "zawgyi")
    assert to_unicode(text) == ("Three soldiers defect\nစစ်သား သုံးဦး ပြည်သူ့ရင်ခွင်သို့ ရောက်ရှိ", "zawgyi")
    assert to_unicode("စစ်သား သုံးဦး") == ("စစ်သား သုံးဦး", "unicode")
    assert to_unicode("English only") == ("English only", None)


@pytest.mark.parametrize("word", ["ဂန့်ဂေါ", "ပေါ်", "ရိက္ခာ", "မုံရွာ", "နှိုက်", "ဒေါ်", "ထွက်ခွာ", "သုံး"])
def test_zawgyi_round_trip_restores_spelling(word):
    assert to_unicode(convert(word, "unicode", "zawgyi"))[0] == word


def test_vowel_order_is_fixed_without_moving_offsets():
    assert fix_order("နှုိက်") == "နှိုက်" and len(fix_order("နှုိက်")) == len("နှုိက်")
    assert fix_order("မံုရွာ") == "မုံရွာ"


def test_language_is_burmese_for_unicode_zawgyi_and_mixed_text():
    assert detect_language("စစ်သား ၁၂ ဦး ခိုလှုံလာသည်။", "en") == "my"
    assert detect_language("Soldiers defect\nစစ်သား ၁၂ ဦး ခိုလှုံလာကြကြောင်း ပြည်သူ့ကာကွယ်ရေးတပ်ဖွဲ့က ပြောသည်။", "en") == "my"
    assert detect_language("Twelve soldiers defected near Kani (ကနီ).", "en") == "en"


def test_syllables_and_word_count_keep_short_burmese_pages():
    assert syllable_count("မြန်မာနိုင်ငံ") == 4
    assert syllable_count("သင်္ဃန်းကျွန်း") == 2  # a stacked consonant (္) belongs to the syllable before, as in sylbreak
    assert word_count("မြန်မာနိုင်ငံ hello world") == 6
    assert min_words_for("my", 80) == 40 and min_words_for("en", 80) == 80


# ------------------------------------------------------------------ numbers

@pytest.mark.parametrize("text,value", [("၁၂", 12), ("၃၈ဝ၂", 3802), ("(၇)", 7), ("၁,၂၀၀", 1200), ("12", 12),
                                        ("ခုနစ်", 7), ("နှစ်ဆယ့်ငါး", 25), ("ဆယ့်နှစ်", 12), ("တစ်ရာ့ငါးဆယ်", 150),
                                        ("သုံးထောင်", 3000), ("ဆယ်", 10)])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text,want", [
    ("စစ်သား ၁၂ ဦး", [("people", 12, "exact")]),
    ("ရဲတပ်ဖွဲ့ဝင်၂၀ဦး", [("people", 20, "exact")]),
    ("တပ်သား (၇) ဦး", [("people", 7, "exact")]),
    ("ရဲတပ်သား နှစ်ယောက်", [("people", 2, "exact")]),
    ("တယောက်", [("people", 1, "exact")]),
    ("စစ်သား အယောက် (၂၀) ကျော်", [("people", 20, "more_than")]),
    ("စစ်သည် ၂ဝ ကျော်", [("people", 20, "more_than")]),
    ("အနည်းဆုံး ၁၀ ဦး", [("people", 10, "at_least")]),
    ("၃၀ ဦးခန့်", [("people", 30, "about")]),
    ("သေနတ် ၈ လက်", [("weapons", 8, "exact")]),
    ("တပ်မ (၇၇) လက်အောက်ခံ တပ်ရင်း", []),
    ("လက်ရှိ ၅ လက်ရှိ", []),
    ("ဇူလိုင် ၈ ရက် မနက် ၉ နာရီ", []),
    ("တပ်ရင်း (၃၈ဝ၂)", []),
])
def test_counts_and_classifiers(text, want):
    assert [(c.what, c.value, c.qualifier) for c in find_counts(text)] == want


# ------------------------------------------------------------------ rules

def _drafts(text):
    return burmese_mentions(text)[0]


def test_defection_report_with_people_weapons_ranks_orgs_places():
    (d,) = _drafts("စစ်ကိုင်းတိုင်း၊ ကနီမြို့နယ်ရှိ စစ်ကောင်စီတပ်မှ ဗိုလ်ကြီးတစ်ဦးနှင့် တပ်သား (၇) ဦးသည် သေနတ် ၈ လက်နှင့်အတူ "
                   "ပြည်သူ့ရင်ခွင်သို့ ခိုလှုံလာကြကြောင်း PDF က ပြောသည်။")
    assert (d["kind"], d["modality"], d["people_count"], d["weapons_count"]) == ("defection", "report", 8, 8)
    assert d["ranks"] == ("captain", "private")
    assert d["orgs"] == ("military council", "People's Embrace", "PDF")
    assert d["locations"] == ("Sagaing Region", "Kani Township") and d["country"] == "Myanmar"


def test_division_number_is_not_guns_and_units_are_canonical():
    (d,) = _drafts("တပ်မ (၇၇) လက်အောက်ခံ ခမရ (၃၄၅) မှ စစ်သည် ၂ဝ ကျော် ပြည်သူ့ဘက်သို့ ကူးပြောင်းလာသည်။")
    assert d["weapons_count"] is None and d["people_count"] == 20 and d["count_qualifier"] == "more_than"
    assert d["units"] == ("LID 77", "LIB 345")


def test_included_rank_is_not_added_and_spelled_numbers_count():
    (d,) = _drafts("ဗိုလ်မှူးတစ်ဦး အပါအဝင် စစ်သား ဆယ့်နှစ်ဦးသည် ပြည်သူ့ဘက်သို့ ကူးပြောင်းလာကြသည်။")
    assert d["people_count"] == 12 and d["ranks"] == ("major",)


def test_conscription_wording():
    kinds = [d["kind"] for d in _drafts(
        "ပြည်သူ့စစ်မှုထမ်းဥပဒေအရ အပတ်စဉ် (၁၂) အတွက် ရပ်ကွက်များတွင် မဲနှိုက်သည်။"
        "လူငယ်များကို ဆင့်ခေါ်စာ ပေးပို့သည်။လူငယ်များ အဓမ္မစုဆောင်းခံရသည်။")]
    assert kinds == ["conscription"] * 3


@pytest.mark.parametrize("text", [
    "ဖမ်းဆီးရမိသော စစ်သား ၅ ဦးသည် လက်နက်ချခဲ့သည်။",  # prisoners of war
    "စစ်သုံ့ပန်း ၁၀ ဦးကို ကြက်ခြေနီထံ လွှဲပြောင်းသည်။",
    "သူသည် ပြည်သူ့ဘက်သို့ မကူးပြောင်းလိုဘဲ တပ်မှ နုတ်ထွက်ချင်ရုံသာ ဖြစ်သည်။",  # only wants to resign
    "တပ်မ (၇၇) လက်အောက်ခံ တပ်ရင်းများ ထွက်ခွာသွားသည်။",  # units leaving a command
    "လေကြောင်းတိုက်ခိုက်မှုကြောင့် ဒေသခံများ ဘုန်းကြီးကျောင်းတွင် ခိုလှုံနေကြသည်။",  # civilians taking refuge
    "ဘောလုံးသမားသည် ကလပ်အသင်းအသစ်သို့ ကူးပြောင်းသည်။",
    "စစ်သားများ ပစ်ခတ်သဖြင့် ရွာသားများ ဘုန်းကြီးကျောင်းတွင် ခိုလှုံနေကြသည်။",  # soldiers shot, villagers took refuge
    "စစ်မှုထမ်းဟောင်းများ အသင်း အစည်းအဝေး ကျင်းပသည်။",  # veterans
])
def test_hard_negatives(text):
    assert _drafts(text) == []


@pytest.mark.parametrize("text,modality", [
    ("စစ်သားများ ပြည်သူ့ရင်ခွင်သို့ ဝင်ရောက်ကြရန် NUG က ဖိတ်ခေါ်သည်။", "appeal"),
    ("လက်နက်နှင့်အတူ ခိုလှုံလာသော စစ်သားများအား ဆုငွေ ချီးမြှင့်မည်။", "offer"),
    ("စစ်သားများ အစုလိုက် ပြည်သူ့ဘက်သို့ ကူးပြောင်းသည်ဆိုသည့် သတင်းကို စစ်ကောင်စီက ငြင်းဆိုသည်။", "denial"),
    ("စစ်သား ၃ ယောက် ပြည်သူ့ရင်ခွင်ကို ခိုလှုံလာကြပါတယ်။", "report"),  # polite spoken ending, not an appeal
])
def test_modality(text, modality):
    assert _drafts(text)[0]["modality"] == modality


def test_follow_up_sentence_fills_the_weapons_count():
    (d,) = _drafts("ရဲတပ်သား နှစ်ယောက် ပြည်သူ့ရင်ခွင်သို့ ခိုလှုံလာသည်။ ၎င်းတို့သည် သေနတ် ၂ လက် ယူလာသည်။")
    assert (d["people_count"], d["weapons_count"]) == (2, 2) and d["end_char"] > 50


def test_family_members_who_come_along_are_not_counted():
    (d,) = _drafts("ရဲတပ်သား ၁ ဦးသည် မိသားစုဝင် ၄ ဦးနှင့်အတူ ပြည်သူ့ရင်ခွင်သို့ ခိုလှုံလာသည်။")
    assert d["people_count"] == 1


def test_cumulative_totals_are_not_this_events_count():
    (d,) = _drafts("အာဏာသိမ်းပြီးကတည်းက စစ်သား ၁၅,၀၀၀ ကျော် ပြည်သူ့ဘက်သို့ ကူးပြောင်းခဲ့သည်။ "
                   "ယင်းတို့အနက် အရာရှိ ၁,၀၀၀ ခန့် ပါဝင်သည်။")
    assert d["people_count"] is None


def test_sentences_and_match_form_keep_offsets():
    text = "စစ်မှုထမ်းအပတ်စဥ်(၆)။ ဒုတိယ\nတတိယ"
    assert [text[s:e] for s, e in sentences(text)] == ["စစ်မှုထမ်းအပတ်စဥ်(၆)။", "ဒုတိယ", "တတိယ"]
    assert len(match_form(text)) == len(text) and "စဉ်" in match_form(text)


def test_article_labels_and_offsets_through_extract_article(nlp):
    title = "ဂန့်ဂေါတွင် ရဲတပ်ဖွဲ့ဝင် ၃ ဦး ခိုလှုံ"
    text = (title + "\nမကွေးတိုင်းဒေသကြီး၊ ဂန့်ဂေါမြို့ ရဲစခန်းမှ ရဲအုပ် ၁ ဦးနှင့် ရဲတပ်သား ၂ ဦးတို့သည် ပစ္စတိုသေနတ် ၃ လက်နှင့်အတူ "
            "ဒေသခံ PDF ထံ ခိုလှုံလာကြသည်။\nရဲအုပ်သည် ရွာများကို မီးရှို့ရာတွင် မပါဝင်လိုသဖြင့် ထွက်လာခြင်းဖြစ်သည်။")
    mentions, labels = extract_article(nlp, "a1", text, title)
    assert all(text[m.start_char:m.end_char] == m.sentence for m in mentions)
    assert labels.defection and labels.defection_report and (labels.defectors, labels.weapons) == (3, 3)
    assert labels.locations == ("Magway Region", "Gangaw") and labels.country == "Myanmar"
    assert set(labels.orgs) == {"Myanmar Police Force", "PDF"}


def test_rules_survive_pickling_for_beam(nlp):
    from newswatch.transforms.mentions.burmese import rules

    assert pickle.loads(pickle.dumps(nlp)) is not None
    assert rules() is rules()
