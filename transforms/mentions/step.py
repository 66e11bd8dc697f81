"""Defection and conscription mentions: the spaCy pipeline, the article API and the Beam stage.

Input: ``PCollection[Article]``; output: ``PCollection[EnrichedArticle]`` (the article,
its :class:`~newswatch.records.Mention` rows and :class:`~newswatch.records.ArticleLabels`)
plus a dead-letter ``PCollection[ErrorRecord]``. The pipeline is ``spacy.blank("en")``
with three components, all driven by data files in ``transforms/mentions/patterns/`` (triggers,
modality cues, nouns, places, organisations, countries, ranks, units, boilerplate lines):

- ``newswatch_sentences`` (:mod:`~newswatch.transforms.mentions.components`): rule sentence
  boundaries (paragraphs, abbreviations such as "Lt. Col.", "No. 5") and the boilerplate
  lines trafilatura keeps ("READ MORE: ...").
- ``newswatch_gazetteer`` (:mod:`~newswatch.transforms.mentions.components`): places,
  organisations (aliases resolved per country), countries and ranks, with PhraseMatchers
  over the whole text.
- ``newswatch_mentions`` (:mod:`~newswatch.transforms.mentions.rules`): trigger words find
  candidate sentences; token Matcher patterns then run on those sentences only and rules
  decide kind, modality, counts, attribution and evidence offsets.

This module turns the components' drafts into records (:func:`extract_article`) and runs
them in Beam (:class:`ExtractMentions`).

Example::

    nlp = build_nlp()
    extract_mentions(nlp, "a1", "Twelve soldiers defected to the KNDF on Monday, the group said.")
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

import apache_beam as beam
import spacy
from apache_beam.utils import shared
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from newswatch.records import Article, ArticleLabels, EnrichedArticle, ErrorRecord, Mention
from newswatch.transforms.mentions.burmese import add_burmese
from newswatch.transforms.mentions.labels import DocFacts, article_labels, headline_end, lead_end
# Importing the component modules registers their @Language.factory names, which build_nlp adds by name.
from newswatch.transforms.mentions.components import patterns_digest
from newswatch.transforms.mentions.rules import spans_by_start, unique

# The version changes whenever a rule file changes, so stored mentions say which rules made them.
EXTRACTOR_VERSION: str = f"1.0+{patterns_digest()}"

_UNSAFE_CHARS = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_for_spacy(text: str) -> str:
    """Lone surrogates and control characters become one safe character each, so offsets stay valid."""
    return _UNSAFE_CHARS.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else " ", text)


# --------------------------------------------------------------------------- public API


def build_nlp(model: str | None = None) -> Language:
    """Blank English plus the newswatch components; ``model`` optionally adds a spaCy NER.

    Args:
      model: name of an installed spaCy pipeline (e.g. ``en_core_web_sm``) whose NER may
        add organisations and places; None (the default) runs on rules alone.
    """
    if model is None:
        nlp = spacy.blank("en")
    else:
        try:
            nlp = spacy.load(model, exclude=["parser", "senter", "lemmatizer", "textcat"])
        except OSError as exc:
            raise ValueError(
                f"spaCy model {model!r} is not installed; install it (python -m spacy download {model}) "
                "or leave the model unset to run on rules alone") from exc
    nlp.max_length = max(nlp.max_length, MAX_TEXT_CHARS)
    # a dash glued to a bracket is a word boundary too: "Dec 29 (DVB)–A soldier who deserted ..."
    nlp.tokenizer.infix_finditer = compile_infix_regex([*nlp.Defaults.infixes, r"[–—]"]).finditer
    nlp.add_pipe("newswatch_sentences", first=True)
    nlp.add_pipe("newswatch_gazetteer")
    nlp.add_pipe("newswatch_mentions")
    return nlp


MAX_TEXT_CHARS = 10_000_000  # the rules are linear; beyond this only the first part is read


def _mention_id(article_id: str, kind: str, start: int, end: int) -> str:
    return f"{article_id}:{kind[0]}:{start}-{end}"


def _doc_facts(doc: Doc, text: str, title: Optional[str]) -> DocFacts:
    body_start = headline_end(text, title)
    places: dict[str, str] = {}
    for span in spans_by_start(doc, "nw_places").spans:
        if span.start_char >= body_start:
            places.setdefault(span.kb_id_, " ".join(span.text.split()))
    orgs = unique(span.kb_id_ for span in spans_by_start(doc, "nw_orgs").spans if span.start_char >= body_start)
    return DocFacts(tuple(places.values()), orgs, doc.user_data.get("nw_country"), body_start,
                    lead_end(text, body_start), doc.user_data.get("nw_lone_defector", False),
                    doc.user_data.get("nw_named_defectors", 0), doc.user_data.get("nw_untold_group", False))


def extract_article(nlp: Language, article_id: str, text: str,
                    title: str | None = None) -> tuple[list[Mention], ArticleLabels]:
    """Mentions and article labels for one article's text (pure; no Beam).

    The headline counts as evidence (a figure in it, a second mention of the story) even when the
    extracted text leaves it out, as trafilatura does: it is read as a first line above the body.
    Mentions in it feed the labels but are not returned, since their offsets would not index ``text``.
    """
    prefix = ""
    if title and title.strip() and headline_end(text, title) == 0:
        prefix = " ".join(title.split()) + "\n\n"
    analysed = prefix + text
    cleaned = _clean_for_spacy(analysed[:nlp.max_length])
    doc = nlp.make_doc(cleaned)
    doc.user_data["nw_text"] = cleaned  # the tokenizer keeps the text as given; Doc.text would rebuild it
    doc = nlp(doc)
    facts = _doc_facts(doc, analysed, title)
    drafts, facts = add_burmese(analysed[:nlp.max_length], doc.user_data.get("nw_mentions", []), facts)  # issue 16
    found = []
    for draft in drafts:
        start, end = draft.pop("start_char"), draft.pop("end_char")
        while end > start and analysed[end - 1].isspace():
            end -= 1
        while start < end and analysed[start].isspace():
            start += 1
        kind = draft["kind"]
        found.append(Mention(
            mention_id=_mention_id(article_id, kind, start - len(prefix), end - len(prefix)), article_id=article_id,
            sentence=analysed[start:end], start_char=start, end_char=end, extractor_version=EXTRACTOR_VERSION, **draft))
    labels = article_labels(found, analysed, facts)
    shift = len(prefix)
    mentions = [m._replace(start_char=m.start_char - shift, end_char=m.end_char - shift) for m in found
                if m.start_char >= shift]
    return mentions, labels


def extract_mentions(nlp: Language, article_id: str, text: str, title: str | None = None) -> list[Mention]:
    """Defection and conscription mentions in ``text``; offsets index into ``text``."""
    return extract_article(nlp, article_id, text, title)[0]


# --------------------------------------------------------------------------- Beam

ERRORS_TAG = "errors"
_EMPTY_LABELS = ArticleLabels(False, False, False, None, None, (), (), None)


class _SharedNlp:
    """Weak-referenceable holder so ``Shared`` can keep one pipeline per worker process."""

    def __init__(self, nlp: Language):
        self.nlp = nlp


class _ExtractMentionsFn(beam.DoFn):
    """Adapts :func:`extract_article` to Beam; failures become ``ErrorRecord``s on ``errors``."""

    def __init__(self, model: str | None):
        self._model = model
        self._shared = shared.Shared()
        self._nlp: Optional[Language] = None
        self._articles = beam.metrics.Metrics.counter("mentions", "articles")
        self._defection = beam.metrics.Metrics.counter("mentions", "defection_mentions")
        self._conscription = beam.metrics.Metrics.counter("mentions", "conscription_mentions")
        self._failures = beam.metrics.Metrics.counter("mentions", "errors")

    def setup(self) -> None:
        model = self._model
        holder = self._shared.acquire(lambda: _SharedNlp(build_nlp(model)), tag=f"newswatch-nlp:{model}:{EXTRACTOR_VERSION}")
        self._nlp = holder.nlp

    def process(self, article: Article) -> Iterable[Any]:
        assert self._nlp is not None
        self._articles.inc()
        try:
            mentions, labels = extract_article(self._nlp, article.article_id, article.text or "", article.title)
        except Exception as exc:  # any rule bug must not stop the pipeline: dead-letter it
            self._failures.inc()
            yield EnrichedArticle(article, (), _EMPTY_LABELS)
            yield beam.pvalue.TaggedOutput(ERRORS_TAG, ErrorRecord(
                stage="mentions", url=article.url, feed_url=article.feed_url, code=type(exc).__name__,
                message=str(exc)[:500], at=datetime.now(timezone.utc).isoformat(timespec="seconds")))
            return
        for mention in mentions:
            (self._defection if mention.kind == "defection" else self._conscription).inc()
        yield EnrichedArticle(article, tuple(mentions), labels)


class ExtractMentions(beam.PTransform):
    """``PCollection[Article]`` -> ``(PCollection[EnrichedArticle], PCollection[ErrorRecord])``.

    Duplicates (``article.duplicate_of`` set) are processed like any article.
    """

    def __init__(self, model: str | None = None):
        super().__init__()
        self._model = model

    def expand(self, articles):
        outputs = articles | "ExtractMentions" >> beam.ParDo(_ExtractMentionsFn(self._model)) \
            .with_input_types(Article) \
            .with_output_types(EnrichedArticle, errors=ErrorRecord) \
            .with_outputs(ERRORS_TAG, main="articles")
        return outputs.articles, outputs[ERRORS_TAG]
