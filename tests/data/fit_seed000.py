# How tests/data/seed000_layer3.txt was made (numpy; run with /usr/bin/python3). Not part of the build.
import numpy as np, random, math
random.seed(1); np.random.seed(1)
E=128
def figs(h):
    h=np.array(h,dtype=float); S=h.sum(); m=S/E
    s=np.sort(h); std=h.std(ddof=1)
    g=np.abs(h[:,None]-h[None,:]).sum()/(2*E*E*m)
    p=h/S; H=-(p[p>0]*np.log2(p[p>0])).sum()
    return dict(S=S,median=np.median(h),std=std,gini=g,H=H,top5=s[-5:].sum()/S,top10=s[-10:].sum()/S,min=s[0],max=s[-1])
target=dict(std=214.6,gini=0.298,H=6.797,top5=0.099,top10=0.177,median=348.5)
scale=dict(std=0.05,gini=0.0005,H=0.0005,top5=0.0005,top10=0.0005,median=0.5)
def loss(h):
    f=figs(h); return sum(((f[k]-target[k])/scale[k])**2 for k in target)
# initial
h=np.exp(np.random.normal(0,0.5,E)); h=h/h.sum()*49920; h=np.round(h).astype(int)
h=np.clip(h,81,1100)
h[22]=1140; h[47]=80
d=49920-h.sum()
free=[i for i in range(E) if i not in (22,47)]
while d!=0:
    i=random.choice(free); st=1 if d>0 else -1
    if 81<=h[i]+st<=1130: h[i]+=st; d-=st
L=loss(h)
for it in range(400000):
    i,j=random.sample(free,2); amt=random.randint(1,20)
    if h[i]+amt>1130 or h[j]-amt<81: continue
    h[i]+=amt; h[j]-=amt
    L2=loss(h)
    if L2<=L: L=L2
    else: h[i]-=amt; h[j]+=amt
    if L<0.05: break
print(L, figs(h)); print(list(h))
