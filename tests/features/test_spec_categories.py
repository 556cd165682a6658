"""Every category of ../shared/specs/attribution-and-speculation.md as regression cases (sentences written for
these tests, not taken from the spec or from any labelled set).

Attribution: the expected label is none / named / unnamed / mixed (named_attribution, unnamed_attribution).
Speculation: yes / no (a sentence is speculative when speculation_cue_matches finds a cue in it).
"""

from __future__ import annotations

import pytest

from features.attribution import attribution_cues, sentence_attribution
from features.speculation import speculation_cue_matches, speculation_cues
from tests.features.conftest import sentence_frame

ATTRIBUTION = {
    # named: a person, a pronoun or a definite description resolving to one
    "named_person": [
        ("Senator Alma Ruiz said the bill would reach the floor next week.", "named"),
        ('"The numbers do not add up," said Kofi Mensah, the city treasurer.', "named"),
        ("She told the committee that the contract had been signed in 2019.", "named"),
        ("The governor insisted that the budget was balanced.", "named"),
        ("Prices will keep climbing, he warned.", "named"),
    ],
    # named: an organisation speaking officially
    "named_org": [
        ("The transport ministry said the line would reopen on Friday.", "named"),
        ("Police said two men had been detained near the harbour.", "named"),
        ("Northwind Airlines announced that it would cut 400 jobs.", "named"),
    ],
    # named: an unnamed spokesperson of a named organisation
    "named_spokesperson": [
        ("A spokeswoman for the port authority said the cranes were idle.", "named"),
        ("The drills were routine, a Defence Ministry spokesman said.", "named"),
    ],
    # named: a specific document, dataset or outlet
    "named_document": [
        ("The ship was carrying grain, according to the Baltic Courier.", "named"),
        ("The audit found that two accounts had been double-counted.", "named"),
        ("A Harlow Institute survey found that most tenants pay more than a third of income in rent.", "named"),
        ("The indictment alleges that the pair laundered the money through a car dealership.", "named"),
    ],
    # unnamed: anonymous sources
    "anonymous_source": [
        ("Two sources said the merger talks had stalled over price.", "unnamed"),
        ("A person familiar with the negotiations said a deal could come within days.", "unnamed"),
        ("One aide described the meeting as frosty.", "unnamed"),
        ("The coach has lost the dressing room, a source close to the club said.", "unnamed"),
    ],
    # unnamed: unnamed officials, even of a named body
    "unnamed_officials": [
        ("Treasury officials said the auction was oversubscribed.", "unnamed"),
        ("Senior Interior Ministry officials told lawmakers the camp was full.", "unnamed"),
    ],
    # unnamed: sourcing meta-sentences
    "meta_anonymity": [
        ("They spoke on condition of anonymity because the inquiry is ongoing.", "unnamed"),
        ("The diplomat asked not to be identified.", "unnamed"),
    ],
    # unnamed: vague collectives
    "collective": [
        ("Critics argue that the tax hits renters hardest.", "unnamed"),
        ("Many farmers complained that the subsidy arrived too late.", "unnamed"),
        ("Analysts believe the central bank will hold rates.", "unnamed"),
        ("Some viewers wrote that the finale felt rushed.", "unnamed"),
    ],
    # unnamed: unspecified reports, data and estimates
    "unspecified_report": [
        ("The striker has reportedly agreed terms with a club in Spain.", "unnamed"),
        ("The talks broke down, according to local reports.", "unnamed"),
        ("State media said the floods had displaced thousands.", "unnamed"),
        ("The data show a steady decline in admissions.", "unnamed"),
        ("Projections suggest the reservoir will run dry by August.", "unnamed"),
    ],
    # unnamed: agentless epistemic passives and reportatives
    "agentless_passive": [
        ("The former minister is believed to have left the country.", "unnamed"),
        ("The painting was said to be worth millions.", "unnamed"),
        ("It has been reported that the plant will close in spring.", "unnamed"),
    ],
    # unnamed: individuals who cannot be identified
    "unidentifiable_individual": [
        ("A witness said the car did not stop at the light.", "unnamed"),
        ("One resident told reporters the water had been brown for weeks.", "unnamed"),
    ],
    "mixed": [
        ("The Gazette reported, citing two people briefed on the plan, that the bank would be split.", "mixed"),
        ("Mayor Okafor said the bridge was safe, but engineers say the cracks are widening.", "mixed"),
    ],
    # none: speech events without content, no-comment, acting, the writer's voice, idioms, continuing quotes
    "none_speech_event": [
        ("The president gave a long speech in the rain.", "none"),
        ("The chief executive apologised.", "none"),
    ],
    "none_no_comment": [
        ("The company did not respond to a request for comment.", "none"),
        ("A spokesman could not be reached on Sunday.", "none"),
    ],
    "none_acting": [
        ("Officials closed the museum after the flood.", "none"),
        ("Investigators searched the warehouse overnight.", "none"),
        ("Hundreds of protesters marched to the parliament.", "none"),
    ],
    "none_writer": [
        ("The reform is long overdue.", "none"),
        ("They feared that the bridge would not hold.", "none"),
    ],
    "none_idiom": [
        ("Needless to say, the trip did not go to plan.", "none"),
        ("That said, the team still has a chance.", "none"),
    ],
    "none_continuing_quote": [
        ('"We were never told anything about the cuts."', "none"),
    ],
    # false alarms named in issue 10
    "false_alarm_group_acting": [
        ("Activists blocked the road to the mine for three days.", "none"),
        ("Lawmakers voted 61-39 to approve the budget.", "none"),
        ("The council lowered the fee by exempting pensioners and students.", "none"),
    ],
    "unnamed_with_relative_clause": [
        ("The aide, who has worked in the office for a decade, said the files were gone.", "unnamed"),
    ],
    "false_alarm_named_poll": [
        ("In the Meridian poll, most respondents said the economy was getting worse.", "named"),
    ],
    "false_alarm_named_site_backreference": [
        ("The site notes that the recall covers three models.", "named"),
        ("The source notes that the figures were revised in March.", "named"),
    ],
}

SPECULATION = {
    "modal": [
        ("The drought could push food prices higher.", "yes"),
        ("The fire may have started in the kitchen.", "yes"),
    ],
    "hedge": [
        ("The delay was probably caused by a software fault.", "yes"),
        ("The shooter appears to have acted alone.", "yes"),
    ],
    "legal_reportative": [
        ("The alleged bribe was paid in cash.", "yes"),
        ("The suspected arsonist was arrested on Tuesday.", "yes"),
    ],
    "uncertainty": [
        ("It is unclear whether the ceasefire will hold.", "yes"),
        ("Whether voters will forgive him remains to be seen.", "yes"),
    ],
    "forecast": [
        ("The storm is expected to make landfall on Thursday night.", "yes"),
        ("The club is likely to sell its captain this summer.", "yes"),
    ],
    "conditional": [
        ("If the strike goes ahead, flights would be cancelled across the country.", "yes"),
        ("Without the loan, the factory would have closed years ago.", "yes"),
    ],
    "belief": [
        ("I think the council has badly misjudged the mood.", "yes"),
    ],
    "no_ability_permission_obligation": [
        ("Residents can apply for the grant online.", "no"),
        ("Drivers must carry their licence at all times.", "no"),
    ],
    "no_refusal_plan_schedule": [
        ("The mayor would not say how much the parade cost.", "no"),
        ("The new rules will take effect in January.", "no"),
        ("The defendant is due to appear in court on Monday.", "no"),
    ],
    "no_generic_risk": [
        ("Carbon monoxide can be fatal in minutes.", "no"),
    ],
    "no_non_epistemic": [
        ("She appeared on television on Sunday night.", "no"),
    ],
    "no_topic_word": [
        ("The union is drawing up plans for a possible strike.", "no"),
    ],
    "no_fact": [
        ("The bridge opened in 1932.", "no"),
    ],
}


# Cases the learned decision (features/data/detectors) gets wrong, with why; strict: a fix must remove them here.
KNOWN_MISSES = {
    "The data show a steady decline in admissions.": (
        "'the data' is labelled named in about as many development-set sentences (a dataset of the article) as "
        "unnamed; the learned score sits just below its threshold (bare 'Data show' is above it)"
    ),
    # issue 26, round 2 (the model retrained on 1,927 tuning sentences, 559 of them hard ones): the F0.5 threshold
    # (+0.41) rejects these canonical collectives; a rule floor that keeps every anonymous or collective head the
    # rules call unnamed costs outlet-grouped CV precision .785 -> .72 (docs/features.md)
    "Many farmers complained that the subsidy arrived too late.": (
        "'farmers' is no source-head noun (class other); indefinite plural subjects of 'complained' are often groups "
        "acting in the hard sentences; score -0.17 < +0.41"
    ),
    "Projections suggest the reservoir will run dry by August.": (
        "data-class subjects are labelled named about as often (the article's own projections); score +0.30 < +0.41"
    ),
    "The Gazette reported, citing two people briefed on the plan, that the bank would be split.": (
        "'citing two people' with a named outlet in the sentence: score +0.15 < +0.41 (the head's embedding weighs "
        "'people' down: many 'people' subjects are generic)"
    ),
    "Mayor Okafor said the bridge was safe, but engineers say the cracks are widening.": (
        "'engineers' is no source-head noun (class other), the sentence has a named frame; score -0.38 < +0.41"
    ),
}


def _cases(table: dict[str, list[tuple[str, str]]]) -> list:
    return [
        pytest.param(
            s,
            want,
            id=f"{cat}-{i}",
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[s])] if s in KNOWN_MISSES else [],
        )
        for cat, rows in table.items()
        for i, (s, want) in enumerate(rows)
    ]


def attribution_label(lexicons, sentence: str) -> str:
    out = sentence_attribution(sentence_frame(sentence), cues=attribution_cues(lexicons)).collect()
    named, unnamed = bool(out["named_attribution"].item()), bool(out["unnamed_attribution"].item())
    return "mixed" if named and unnamed else "named" if named else "unnamed" if unnamed else "none"


def speculative_label(lexicons, sentence: str) -> str:
    matches = speculation_cue_matches(sentence_frame(sentence), cues=speculation_cues(lexicons)).collect()
    return "no" if matches.is_empty() else "yes"


@pytest.mark.parametrize(("sentence", "want"), _cases(ATTRIBUTION))
def test_attribution_category(lexicons, sentence, want):
    assert attribution_label(lexicons, sentence) == want


@pytest.mark.parametrize(("sentence", "want"), _cases(SPECULATION))
def test_speculation_category(lexicons, sentence, want):
    assert speculative_label(lexicons, sentence) == want


def test_every_spec_category_has_cases():
    assert all(len(rows) >= 1 for rows in (*ATTRIBUTION.values(), *SPECULATION.values()))
    assert {"yes", "no"} == {w for rows in SPECULATION.values() for _, w in rows}
    assert {"none", "named", "unnamed", "mixed"} == {w for rows in ATTRIBUTION.values() for _, w in rows}
