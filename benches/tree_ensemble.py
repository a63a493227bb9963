"""Does a tree ensemble beat strata's logistic regression? (issue 5)

Gradient boosting (scikit-learn HistGradientBoostingClassifier) against an
L2 logistic regression on all of strata's features, same rows, same outcome.
Train: population A (seed 42, 100k) at index 2025-03-31, outcome from its
encounters in the following 365 days. Test: population B (seed 7, 100k) at
2026-03-31, outcome and true/record risks from truth.parquet.

Run after benches/model.sh (which generates both populations):
    python3 -m venv /tmp/gbm && /tmp/gbm/bin/pip install pyarrow pandas scikit-learn
    S=target/release/strata; D=target/bench-data
    $S features --input $D/100000/extract --index-date 2025-03-31 --out /tmp/featA.parquet
    $S features --input $D/100000-seed7/extract --index-date 2026-03-31 --out /tmp/featB.parquet
    /tmp/gbm/bin/python benches/tree_ensemble.py $D/100000/extract /tmp/featA.parquet \
        $D/100000-seed7/extract /tmp/featB.parquet
"""
import sys, time, numpy as np, pandas as pd, pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score

A, FA, B, FB = sys.argv[1:5]
# Optional: a strata model file trained on A, scored here by an independent
# re-implementation of its terms (docs/model-card.md) for a paired comparison.
MODEL = sys.argv[5] if len(sys.argv) > 5 else None

def strata_risk(model_file, f):
    import json
    m = json.load(open(model_file))
    z = np.full(len(f), m['intercept'])
    for t in m['terms']:
        v = f[t['feature']]
        kind = t['transform']['kind']
        if kind == 'equals':
            x = (v.astype(str) == t['transform']['value']).astype(float)  # missing text is 0, as in strata
        elif kind == 'is_missing':
            x = v.isna().astype(float)
        else:
            x = v.astype(float)
            if kind == 'log1p':
                x = np.log1p(x.clip(lower=0))
            elif kind == 'above':
                x = (x - t['transform']['knot']).clip(lower=0)
            elif kind == 'below':
                x = (t['transform']['knot'] - x).clip(lower=0)
        x = x.fillna(t['impute'])
        z = z + t['coefficient'] * (x.values - t['center']) / t['scale']
    return 1 / (1 + np.exp(-z))

def frame(feat, extract):
    f = pq.read_table(feat).to_pandas()
    p = pq.read_table(extract + '/patients.parquet', columns=['person_id','opt_out_national','opt_out_type1']).to_pandas()
    f = f.merge(p, on='person_id')
    return f[~(f.opt_out_national.fillna(False) | f.opt_out_type1.fillna(False))].copy()

def design(f):
    x = f.drop(columns=['person_id','practice_code','pcn_code','lsoa','age_band','imd_quintile','opt_out_national','opt_out_type1','ethnicity_group','social_care_type','efi_category','sex'], errors='ignore')
    x = x.drop(columns=[c for c in x.columns if c in ('outcome','true_risk_12m','record_risk_12m','emergency_admission_12m')])
    x['male'] = (f.sex == 'M').astype(float)
    for c in x.columns:
        x[c] = x[c].astype(float)
    x['imd_decile'] = x['imd_decile'].fillna(x['imd_decile'].median())
    return x.fillna(0.0)

fa = frame(FA, A)
enc = pq.read_table(A + '/encounters.parquet', columns=['person_id','setting','start_date','emergency']).to_pandas()
enc = enc[(enc.setting == 'inpatient') & enc.emergency.fillna(False)]
d = pd.to_datetime(enc.start_date)
hit = set(enc[(d > '2025-03-31') & (d <= '2026-03-31')].person_id)
fa['outcome'] = fa.person_id.isin(hit)

fb = frame(FB, B)
t = pq.read_table(B + '/truth.parquet').to_pandas()
fb = fb.merge(t, on='person_id')

xa, xb = design(fa), design(fb)
xb = xb[xa.columns]
ya, yb = fa.outcome.values, fb.emergency_admission_12m.values
print(f'train n={len(ya)} prevalence={ya.mean():.4f}; test n={len(yb)} prevalence={yb.mean():.4f}; {xa.shape[1]} features')
print(f'oracle AUC {roc_auc_score(yb, fb.true_risk_12m):.4f}; record oracle AUC {roc_auc_score(yb, fb.record_risk_12m):.4f}')

def slope(y, p):
    lp = np.log(p / (1 - p)).reshape(-1, 1)
    m = LogisticRegression(C=1e6, max_iter=1000).fit(lp, y)
    return m.coef_[0][0]

s = StandardScaler().fit(xa)
lr = LogisticRegression(C=1.0, max_iter=2000).fit(s.transform(xa), ya)
p_lr = lr.predict_proba(s.transform(xb))[:, 1]
print(f'logistic (all {xa.shape[1]} features): AUC {roc_auc_score(yb, p_lr):.4f} slope {slope(yb, p_lr):.3f} mean risk {p_lr.mean():.4f}')
best = None
for lr_, it, leaf in ((0.05, 300, 31), (0.03, 600, 15), (0.1, 200, 63)):
    t0 = time.time()
    g = HistGradientBoostingClassifier(learning_rate=lr_, max_iter=it, max_leaf_nodes=leaf, early_stopping=True, validation_fraction=0.2, random_state=0).fit(xa, ya)
    p = g.predict_proba(xb)[:, 1]
    a = roc_auc_score(yb, p)
    print(f'gradient boosting (learning rate {lr_}, {g.n_iter_} trees, {leaf} leaves): AUC {a:.4f} slope {slope(yb, p):.3f} mean risk {p.mean():.4f} ({time.time()-t0:.1f}s)')
    if best is None or a > best[0]:
        best = (a, p)

def paired(label, p_a, p_b):
    """AUC(p_a) − AUC(p_b) on B with a paired bootstrap 95% CI (200 resamples)."""
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(200):
        i = rng.integers(0, len(yb), len(yb))
        diffs.append(roc_auc_score(yb[i], p_a[i]) - roc_auc_score(yb[i], p_b[i]))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    d = roc_auc_score(yb, p_a) - roc_auc_score(yb, p_b)
    print(f'{label}: {d:+.4f} (bootstrap 95% CI {lo:+.4f} to {hi:+.4f})')

paired('best boosting minus logistic on all features', best[1], p_lr)
if MODEL:
    p_s = strata_risk(MODEL, fb)
    print(f'strata model ({MODEL}): AUC {roc_auc_score(yb, p_s):.4f} slope {slope(yb, p_s):.3f} mean risk {p_s.mean():.4f}')
    paired('best boosting minus the strata model', best[1], p_s)
