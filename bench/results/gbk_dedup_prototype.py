"""Measurement artifact, not product code: `newswatch` with a state-free batch MarkDuplicates.

Sign in parallel, send (id, dates, content hash, signature) to one key, one
GroupByKey, the same offer()/Clusters core as dedup.mark_duplicates, links
applied through an AsDict side input. Used by bench/run.py --entry to measure
the suggested dedup change (see bench/README.md).

    python bench/run.py --articles 10000 --out x.json --entry bench/results/gbk_dedup_prototype.py

It ran against commit 47fc30b and imports that commit's private dedup names;
the design landed as the batch path of MarkDuplicates in a6466c2, so check
out 47fc30b to rerun it.
"""
import math, sys
from collections import defaultdict
import apache_beam as beam
import newswatch.pipelines.graph as graph
from newswatch.records import Article
from newswatch.transforms.dedup import Relink
from newswatch.transforms import dedup as D


class _Sign(beam.DoFn):
    def __init__(self, num_perm, k):
        self._num_perm, self._k, self._h = num_perm, k, None
    def setup(self):
        self._h = D.MinHasher(self._num_perm, self._k)
    def process(self, a):
        yield a._replace(minhash=self._h.signature(a.text), duplicate_of=None, duplicate_kind=None)


def _resolve(grouped, threshold, rows, window_s, num_perm):
    _, values = grouped
    clusters = D.Clusters()
    buckets = defaultdict(list); sigs = {}; checked = set(); new_ids = set(); stored = []
    def offer(meta, sig):
        keys = [D.exact_key(meta.content_hash)] + (D.band_keys(sig, rows) if sig else [])
        for key in keys:
            for other in buckets[key]:
                if not D._comparable(meta, other, window_s):
                    continue
                if key[:1] != D._EXACT:
                    pair = (min(meta.article_id, other.article_id), max(meta.article_id, other.article_id))
                    if pair in checked: continue
                    checked.add(pair)
                    if D.estimate_jaccard(sig, sigs[other.article_id]) < threshold: continue
                clusters.add(meta); clusters.add(other); clusters.union(meta.article_id, other.article_id)
            buckets[key].append(meta)
        if sig: sigs[meta.article_id] = sig
    values = list(values)
    priors = [v[1] for v in values if v[0] == "prior"]
    roots = {e.duplicate_of for e in priors if e.duplicate_of}
    for e in priors:
        meta = D._prior_meta(e, -math.inf, window_s)
        if e.duplicate_of or e.article_id in roots: clusters.add(meta)
        stored.append(e)
        offer(meta, D._usable(e.minhash, num_perm))
    for tag, (aid, pub, seen, chash, sig) in (v for v in values if v[0] == "new"):
        new_ids.add(aid)
        offer(D._meta(aid, pub, seen, chash, -math.inf, window_s), sig)
    for aid in new_ids:
        if aid in clusters:
            link, kind = clusters.link_of(aid)
            if link is not None: yield aid, (link, kind)
    for e in stored:
        if e.article_id in clusters and e.article_id not in new_ids:
            link, kind = clusters.link_of(e.article_id)
            if link != e.duplicate_of:
                yield beam.pvalue.TaggedOutput("relinks", Relink(e.article_id, link, kind))


class GbkMarkDuplicates(beam.PTransform):
    def __init__(self, prior=None, threshold=D.DEFAULT_THRESHOLD, num_perm=D.DEFAULT_NUM_PERM, window_days=14.0,
                 rows=D.DEFAULT_ROWS, shingle_k=D.DEFAULT_SHINGLE):
        super().__init__()
        self._prior, self._t, self._n, self._w, self._r, self._k = prior, threshold, num_perm, window_days * 86400.0, rows, shingle_k
    def expand(self, articles):
        signed = articles | "Sign" >> beam.ParDo(_Sign(self._n, self._k)).with_output_types(Article)
        metas = signed | "Meta" >> beam.Map(lambda a: (0, ("new", (a.article_id, a.published_at, a.seen_at, a.content_hash, a.minhash))))
        inputs = [metas]
        if self._prior is not None:
            prior = self._prior
            inputs.append(articles.pipeline | "Impulse" >> beam.Impulse()
                          | "ReadPrior" >> beam.FlatMap(lambda _: [(0, ("prior", e)) for e in prior()]))
        resolved = (inputs | "FlattenMetas" >> beam.Flatten() | "OneKey" >> beam.GroupByKey()
                    | "Resolve" >> beam.FlatMap(_resolve, self._t, self._r, self._w, self._n).with_outputs("relinks", main="links"))
        def apply(a, links):
            hit = links.get(a.article_id)
            return a if hit is None else a._replace(duplicate_of=hit[0], duplicate_kind=hit[1])
        marked = signed | "ApplyLinks" >> beam.Map(apply, links=beam.pvalue.AsDict(resolved.links)).with_output_types(Article)
        relinks = resolved.relinks | "AsRelinks" >> beam.Map(lambda r: r).with_output_types(Relink)
        return marked, relinks


graph.MarkDuplicates = GbkMarkDuplicates
from newswatch.cli import main
sys.exit(main(sys.argv[1:]))
