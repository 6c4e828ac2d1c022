"Every metric cross-checked against scikit-learn or SciPy on random inputs."
import itertools, math
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, top_k_accuracy_score
from sklearn.preprocessing import MultiLabelBinarizer
from llmforge.metrics import (exact_match, top_k, prf, mean_ci, bootstrap_ci, mcnemar, permutation_test, paired_bootstrap,
                              wilson_interval, win_rate, pass_at_k)

SEEDS = range(5)
LABELS = [f'C{i}' for i in range(8)]

@pytest.mark.parametrize('seed', SEEDS)
def test_exact_match_is_accuracy(seed):
    rng = np.random.default_rng(seed)
    g = rng.choice(LABELS, 300); p = np.where(rng.random(300) < 0.6, g, rng.choice(LABELS, 300))
    assert exact_match(list(p), list(g)).mean() == pytest.approx(accuracy_score(g, p))

@pytest.mark.parametrize('seed', SEEDS)
@pytest.mark.parametrize('average', ['micro', 'macro', 'weighted'])
def test_prf_matches_sklearn_multilabel(seed, average):
    rng = np.random.default_rng(seed)
    golds = [set(rng.choice(LABELS, rng.integers(1, 4), replace=False)) for _ in range(200)]
    preds = [set(rng.choice(LABELS, rng.integers(0, 4), replace=False)) for _ in range(200)]
    mlb = MultiLabelBinarizer(classes=LABELS).fit([LABELS])
    p, r, f, _ = precision_recall_fscore_support(mlb.transform(golds), mlb.transform(preds), average=average, zero_division=0)
    ours = prf(preds, golds, average)
    assert (ours['precision'], ours['recall'], ours['f1']) == pytest.approx((p, r, f))

@pytest.mark.parametrize('seed', SEEDS)
@pytest.mark.parametrize('average', ['micro', 'macro', 'weighted'])
def test_prf_matches_sklearn_single_label(seed, average):
    rng = np.random.default_rng(seed)
    g = rng.choice(LABELS, 250); p = np.where(rng.random(250) < 0.5, g, rng.choice(LABELS, 250))
    sp, sr, sf, _ = precision_recall_fscore_support(g, p, average=average, zero_division=0, labels=sorted(set(g) | set(p)))
    ours = prf(list(p), list(g), average)
    assert (ours['precision'], ours['recall'], ours['f1']) == pytest.approx((sp, sr, sf))

@pytest.mark.parametrize('seed', SEEDS)
@pytest.mark.parametrize('k', [1, 3, 5])
def test_top_k_matches_sklearn(seed, k):
    rng = np.random.default_rng(seed)
    scores = rng.random((150, len(LABELS)))
    y = rng.integers(0, len(LABELS), 150)
    ranked = [[LABELS[j] for j in np.argsort(-s)] for s in scores]
    assert top_k(ranked, [LABELS[i] for i in y], k).mean() == pytest.approx(top_k_accuracy_score(y, scores, k=k, labels=range(len(LABELS))))

@pytest.mark.parametrize('seed', SEEDS)
def test_bootstrap_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    x = (rng.random(400) < 0.65).astype(float)
    ours = mean_ci(x, n=4000, seed=seed)
    ref = stats.bootstrap((x,), np.mean, n_resamples=4000, method='percentile', random_state=seed).confidence_interval
    assert ours.value == pytest.approx(x.mean())
    assert ours.lo == pytest.approx(ref.low, abs=0.01) and ours.hi == pytest.approx(ref.high, abs=0.01)
    # a metric that is not a mean: the bootstrap interval of the median
    med = bootstrap_ci(lambda a: np.median(a.astype(float)), rng.normal(size=300), n=2000, seed=seed)
    assert med.lo <= med.value <= med.hi

def _mcnemar_reference(b, c, exact):
    if exact: return min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5))
    return stats.chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1)

@pytest.mark.parametrize('seed', SEEDS)
@pytest.mark.parametrize('n', [20, 400])
def test_mcnemar(seed, n):
    rng = np.random.default_rng(seed)
    a = rng.random(n) < 0.6; b = np.where(rng.random(n) < 0.8, a, rng.random(n) < 0.75)
    r = mcnemar(a, b)
    bb, cc = int((a & ~b).sum()), int((~a & b).sum())
    assert (r['b'], r['c']) == (bb, cc)
    if bb + cc: assert r['p_value'] == pytest.approx(_mcnemar_reference(bb, cc, bb + cc < 25))

@pytest.mark.parametrize('seed', SEEDS)
def test_permutation_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.random(60); b = a + rng.normal(0.05, 0.2, 60)
    ours = permutation_test(a, b, n=20000, seed=seed)
    ref = stats.permutation_test((a, b), lambda x, y: np.mean(y - x), permutation_type='samples', n_resamples=20000, random_state=seed)
    assert ours['diff'] == pytest.approx(ref.statistic)
    assert ours['p_value'] == pytest.approx(ref.pvalue, abs=0.02)

def test_paired_bootstrap_detects_a_real_difference_and_not_a_fake_one():
    rng = np.random.default_rng(0)
    a = rng.random(300) < 0.5
    better, same = a | (rng.random(300) < 0.3), a.copy()
    acc = lambda s: np.mean(s.astype(float))
    assert paired_bootstrap(acc, a, better, n=1000)['lo'] > 0
    r = paired_bootstrap(acc, a, same, n=1000)
    assert r['diff'] == 0 and r['lo'] <= 0 <= r['hi']

@pytest.mark.parametrize('k,n', [(0, 10), (3, 10), (10, 10), (37, 120), (1, 1)])
def test_wilson_matches_scipy(k, n):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method='wilson')
    assert wilson_interval(k, n) == pytest.approx((ref.low, ref.high))

def test_win_rate_counts_ties_as_half():
    w = win_rate(['b'] * 6 + ['a'] * 2 + ['tie'] * 2)
    assert (w['win_rate'], w['n']) == (0.7, 10) and w['lo'] < 0.7 < w['hi']

@pytest.mark.parametrize('n,c,k', [(5, 0, 1), (5, 2, 1), (5, 2, 3), (8, 3, 4), (10, 7, 5), (12, 1, 12)])
def test_pass_at_k_matches_enumeration(n, c, k):
    "The unbiased estimator equals the exact probability over all k-subsets of the n samples"
    samples = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    exact = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(exact)
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))
