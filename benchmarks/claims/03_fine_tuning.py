record("fine-tuning improves on feature extraction", section="3",
       figure=f"test accuracy, LP-FT (the whole base but BatchNormalization, Adam {FT_LR:g}, {EPOCHS} epochs) "
              f"minus feature extraction (the same probe), {LABELS} labels a class, paired by seed",
       comparison=far, condition=f"MNIST digits at {DIGIT_SIZE} px, far from ImageNet",
       contrast=near, contrast_condition=f"flower photos at {FLOWER_SIZE} px, near ImageNet")

record("fine-tune with a small learning rate", section="4",
       figure=f"digits, {FEW} labels a class, {EPOCHS} epochs: test accuracy at lr {FT_LR:g} minus at the "
              f"head's {HEAD_LR:g}, paired by seed", comparison=low_rate["random"],
       condition="a random head (large early gradients), the whole base trainable",
       contrast=low_rate["probe"], contrast_condition="the probe's fitted head (LP-FT)",
       note="each run also reports the distance of the base from its pretrained weights")

record("fine-tune gradually rather than all layers at once", section="5",
       figure=f"digits, {FEW} labels a class: test accuracy, {HEAD_EPOCHS} epochs of the head alone then "
              f"{EPOCHS} of everything, minus {EPOCHS} epochs of everything from the start, paired by seed",
       comparison=stepwise["random", FT_LR], condition=f"a random head, fine-tuned at lr {FT_LR:g}",
       contrast=stepwise["probe", FT_LR], contrast_condition=f"the probe's fitted head (LP-FT), lr {FT_LR:g}")

record("fine-tune with a small batch", section="6", value=None, verdict="shown (cited)",
       figure="Masters and Luschi (2018), Revisiting Small Batch Training for Deep Neural Networks, "
              "arXiv:1804.07612: best test accuracy with batch sizes 2 to 32 (CIFAR-10/100, ImageNet; "
              "training, not fine-tuning)",
       note="not measured in this lesson; the recipe here uses batch 32 with BatchNormalization frozen")
