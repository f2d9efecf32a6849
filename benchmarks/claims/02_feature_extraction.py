record("a frozen base plus a new head works", section="4", comparison=works["flowers"],
       figure=f"test accuracy of a logistic regression on the pooled {LAST} features, frozen ImageNet base "
              f"minus the same network with random weights, {PROBE_PER_CLASS} photos per class, "
              f"{len(PROBE_SEEDS)} paired draws",
       condition=f"flowers, photos like ImageNet's ({IMAGE_SIZE} px)",
       contrast=works["digits"], contrast_condition=f"handwritten digits at {DIGITS_SIZE} px, far from ImageNet",
       note=f"ImageNet base: flowers {np.mean(runs['flowers'][LAST]):.3f}, digits "
            f"{np.mean(runs['digits'][LAST]):.3f}; random weights: flowers {np.mean(random_runs['flowers']):.3f}, "
            f"digits {np.mean(random_runs['digits']):.3f}; chance {chance:.2f}")

record("on a far target an intermediate layer's features beat the last layer's", section="4",
       comparison=deeper["digits"], condition=f"handwritten digits at {DIGITS_SIZE} px, far from ImageNet",
       contrast=deeper["flowers"], contrast_condition=f"flowers at {IMAGE_SIZE} px, photos like ImageNet's",
       figure=f"linear probe test accuracy, {MIDDLE} minus {LAST} of one ImageNet base, "
              f"{len(PROBE_SEEDS)} paired draws of {PROBE_PER_CLASS} photos per class")

record("early layers are generic, later layers specific", section="4", comparison=loss[3],
       figure="digits 5-9 test accuracy, self-transfer (BnB) minus transfer from the digits 0-4 network (AnB), "
              f"the first n blocks copied and frozen (Yosinski et al. 2014's set-up), {len(SEEDS)} seeds",
       condition="n = 3: the dense layer copied too (the later layers)",
       contrast=loss[2], contrast_condition="n = 2: the two convolution blocks only (the early layers)",
       note=f"n = 1: {loss[1]}; fine-tuned instead (AnB+ minus BnB, n = 3): {tuned}")
