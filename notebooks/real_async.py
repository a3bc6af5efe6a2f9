# %% [markdown]
# # Real asynchrony: a Dask parameter server on this machine
#
# M worker processes compute logistic-regression gradients; the server applies whichever arrives first and
# records the staleness $\tau_t$ = current version − version read. With injected exponential work times the
# measured law should be $\mathrm{Geom}(1/M)$; with natural work times we compare it with the queue model fed
# with the measured cycle times.

# %%
from reports.notebook_support import show_part

# %%
show_part('real-asynchrony')
