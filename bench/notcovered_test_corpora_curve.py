import numpy as np, json, sys
sys.path.insert(0,'.')
from retrieval.evaluation.writer_sets import writer_sets
from retrieval.evaluation.writers import default_cache, settings_for
from retrieval.index import build_index
from retrieval.search import Retriever
from retrieval.search.answerability import gather_evidence, shipped_model
from retrieval.search.coverage import best_dense_score
from retrieval.evaluation.train_not_covered import evidence_rows, fit
m=shipped_model()
cache=default_cache(); rows=[]
for ws in writer_sets(cache, which="test", include=lambda n: n.startswith("consumer-")):
    st=settings_for(ws,cache); build_index(st); r=Retriever.load(st)
    for q in ws.questions:
        res=r.search(q.text,k=st.top_k); b=best_dense_score(res); e=gather_evidence(res,b)
        rows.append((q.expect=="decline", b, m.not_covered_probability(e)))
y=np.array([a for a,_,_ in rows]); d1=np.array([b for _,b,_ in rows]); p=np.array([c for _,_,c in rows])
out={}
for rate in (0.02,0.03,0.05,0.0643):
    td=np.quantile(d1[~y], rate); tp=np.quantile(p[~y],1-rate)
    out[rate]={"cosine":round(float(np.mean(d1[y]<td)),3),"model":round(float(np.mean(p[y]>tp)),3)}
out["shipped gates, score alone"]={"cosine<0.25":[round(float(np.mean(d1[~y]<0.25)),3),round(float(np.mean(d1[y]<0.25)),3)],
  "model>=thr":[round(float(np.mean(p[~y]>=m.threshold)),3),round(float(np.mean(p[y]>=m.threshold)),3)]}
print(json.dumps(out))
