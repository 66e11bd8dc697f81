"""Itemised lists in statements (issue 13): one person per rank-and-name line, counts per rank or firearm."""

from newswatch.transforms.mentions.itemised import ItemisedList, itemised_counts


def test_numbered_names_and_arms_with_ammunition_left_out():
    text = ("2. The names are as follows:\n"
            "   (1) Warrant Officer Kyaw Lin, Army No. 1234\n"
            "   (2) Private Soe Moe\n"
            "3. Arms brought:\n"
            "   (a) BA-63 rifle - (3) nos.\n"
            "   (b) 7.62 mm ammunition - (90) rounds\n"
            "   (c) Pistol - (1) no.\n"
            "   (d) Hand grenade - (5) nos.\n")
    [found] = itemised_counts(text)
    assert (found.people, found.weapons) == (2, 4)
    assert text[found.start:].lstrip().startswith("(1)")  # the numbered paragraph before the names is running text


def test_rank_counts_and_classifier_hands():
    text = "Ranks:\n- Captain: 1\n- Sergeant: 2\n- Private: 9\n\nArms:\n- MA-3 rifle: 11\n- Pistol: 2 hands\n- Radio sets: 2\n"
    assert [(f.people, f.weapons) for f in itemised_counts(text)] == [(12, None), (None, 13)]


def test_one_line_weapons_list():
    assert itemised_counts("They came with:\nWeapons: MA-1 rifles: 3, BA-63: 1, magazines: 12\n") == [
        ItemisedList(16, None, 4)]  # the offset of the "Weapons:" line


def test_bulleted_news_items_count_nothing():
    text = "Other news:\n- Airstrike in Kani: 3 dead\n- Rice price up: 20 percent\n- Private schools reopen in Yinmabin\n"
    assert itemised_counts(text) == []


def test_a_single_item_line_is_no_list():
    assert itemised_counts("Note:\n- Corporal: 5\nThe rest stayed.") == []
