# %% [markdown]
# # CNN training under simulated asynchrony (Figs. 3, 4, 5, 8)
#
# cifar10_quick on Fashion-MNIST; M workers driven by the same queue as the Monte Carlo; explicit momentum
# $\mu_L$ at the store. The implicit momentum $\mu_S = 1 - 1/M$ suggests the best $\mu_L$ should fall as $M$
# grows. The evidence is committed (computed once on a 2-core CPU, chunk by chunk, `make verify-evidence` recomputes
# chunks): targets late in training (the best synchronous loss at 300 and 600 updates), a learning-rate grid in
# half-decades independent of $\mu_L$ and $M$, paired seeds, every claim decided on decision seeds and again on fresh
# replication seeds. The batch ladder (`cnn_batch_ladder`) asks whether Figs. 4 and 8 fail for the regime: the same
# network at batch 16, 64 and 128 (the paper's), with each rung's sharpness and noise scale, and what the recurrence
# (19) predicts from them. Beyond the paper, the closed loop and the later step rules run on the same seeds and are scored
# against the grid's per-M oracle.

# %%
from reports.notebook_support import show_part

# %%
show_part('cnn')
