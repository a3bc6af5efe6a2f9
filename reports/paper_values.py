"""What the paper itself reports for each claim, as the report shows it beside ours (docs/paper.md; figure values read
from the paper's plot data). A claim not listed is a statement without a published number."""
from __future__ import annotations

PAPER = {
    "thm2-expected-update": "Theorem 2: E[w_{t+1} - w_t] = -alpha sum_l q(l) E grad f(w_{t-l}) for any staleness law q",
    "thm3-geometric-momentum": "Theorem 3: mu_S = 1 - 1/M, step alpha/M, for Geom(1/M) staleness",
    "thm5-queue-geometric": "Theorem 5: M workers with exponential work times give staleness Geom(1/M)",
    "fig6-optimal-explicit-momentum": "Fig. 6: mu_L* at mu_S = 0, 0.1, ..., 0.9 — Q = 5: 0.149, 0.051, -0.062, -0.171, "
                                      "-0.187, -0.214, -0.236, -0.258, -0.279, -0.290; Q = 20: 0.409, 0.306, 0.198, "
                                      "0.106, 0.008, -0.176, -0.258, -0.263, -0.296, -0.301",
    "fig6-polyak-at-zero": "Fig. 6: at mu_S = 0 the optimum is Polyak's ((sqrt(Q) - 1)/(sqrt(Q) + 1))^2 (0.146 at Q = 5)",
    "fig6-negative-beyond-mu-star": "Fig. 6: negative mu_L is optimal once mu_S exceeds about mu*(Q)",
    "c7-saturation": "Fig. 6: the optimum saturates near -0.3 (-0.290 at Q = 5, -0.301 at Q = 20 for mu_S = 0.9)",
    "fig7-tuning-helps": "Fig. 7: tuning mu_L beats mu_L = 0 and mu_L = 0.5 for every mu_S (gamma^10, Q = 10)",
    "fig7-paper-values": "Fig. 7: gamma^10 at 20 points of mu_S in [0, 0.9]; tuned 0.001634 ... 0.4663, mu_L = 0: "
                         "0.137 ... 0.5904, mu_L = 0.5: 0.03125 ... 0.6854",
    "finding-fig7-ratio": "Section VI text: negative momentum gives about 1.5x over mu_L = 0 for mu_S > 0.3",
    "finding-cnn-momentum-magnitude": "Fig. 3 (CIFAR): best momentum 0.7, 0.6, 0.2, 0.1 at 1, 2, 4, 8 groups; "
                                      "mu*(1) - (1 - 1/M) would be 0.2, -0.05, -0.175",
    "cnn-best-momentum-falls": "Fig. 3: best momentum 0.7, 0.6, 0.2, 0.1 at 1, 2, 4, 8 groups (CIFAR-10); "
                               "Fig. 8: chosen 0.675, 0.45, 0.225, 0.0, -0.675 at 1..16 groups",
    "cnn-fixed-momentum-penalty": "Figs. 4/8 at 16 groups: penalty 16 with mu fixed at 0.9 vs 6 tuned >= 0 (ratio 2.7)",
    "cnn-negative-momentum": "Fig. 8 at 16 groups: chosen mu = -0.675; penalty 3 vs 6 tuned >= 0",
    "cnn-momentum-magnitude": "Fig. 3: best momentum falls by 0.6 from 1 to 8 groups, less than 1 - 1/M = 0.875",
    "cnn-tuned-penalty-small": "Fig. 4: penalty with momentum tuned (any sign) 1, 1, 2, 2, 3 at 1, 2, 4, 8, 16 groups",
    "cnn-warm-start": "Fig. 5 (ImageNet, warm start): penalty 1.00, 0.92, 0.99, 0.93 at 1, 2, 4, 8 groups",
    "cnn-measured-momentum-grows": "Theorem 5: total momentum 1 - 1/M (0, 0.75, 0.9375 at M = 1, 4, 16)",
    "real-async-geometric": "Theorem 5: Geom(1/M) staleness, variance M(M - 1)",
    "real-async-efficiency": "Section IV-A: time to target relative to one group = HE x SE",
    "real-async-momentum": "Theorem 5: total momentum 1 - 1/M + mu_L",
    "mc-queue-geometric": "Theorem 5: Geom(1/M) staleness, mean M - 1, variance M(M - 1)",
    "mc-async-follows-momentum": "Theorem 3: expected iterates follow momentum mu_S = 1 - 1/M, step alpha/M",
}


def paper_value(claim_id: str) -> str:
    return PAPER.get(claim_id, "")
