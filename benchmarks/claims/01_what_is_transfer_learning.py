record("transfer needs less labelled data", section="3", comparison=few, contrast=plenty,
       condition=f"5 labelled flower photos per class, both at {SCRATCH_SIZE} px, the scratch CNN stopped "
                 "on validation", contrast_condition=f"the whole pool, {MAX_PER_CLASS} photos per class",
       figure=f"test accuracy, logistic regression on the pretrained base's features minus the CNN from "
              f"scratch, same photos, {len(SEEDS)} seeds",
       note=f"the scratch CNN matches the pretrained features' accuracy at 5 per class at k = "
            f"{scratch_matches('pretrained')}")

record("transfer gives better results", section="3", comparison=plenty, contrast=placebo,
       condition=f"flowers, the whole pool ({MAX_PER_CLASS} per class), both at {SCRATCH_SIZE} px, the scratch "
                 f"CNN trained until validation stopped improving (at most {MAX_EPOCHS} epochs)",
       contrast_condition="the same network with random weights instead of ImageNet's",
       figure=f"test accuracy, logistic regression on the base's features minus the CNN from scratch, "
              f"{len(SEEDS)} seeds",
       note=f"for information, the base at its own {IMAGE_SIZE} px minus the scratch CNN at {SCRATCH_SIZE} px: "
            f"{gain('pretrained, 160 px', None)}")

record("transfer needs less training time", section="4", comparison=time_saved(None), contrast=time_saved(5),
       condition=f"the whole pool ({MAX_PER_CLASS} per class), {SCRATCH_SIZE} px, the scratch CNN until its "
                 "best validation epoch, the pretrained features' extraction counted",
       contrast_condition="5 labelled photos per class", unit="s",
       figure=f"training seconds, the CNN from scratch minus the pretrained features, {len(SEEDS)} seeds",
       note="wall times on the machine that ran the lesson; the pretrained base's own training is not counted")

record("train a model on plentiful data to reuse it where data is scarce", section="5",
       comparison=reuse[SHOTS_DIGITS], contrast=reuse[PLENTY_DIGITS],
       condition=f"digits 5-9 with {SHOTS_DIGITS} labelled images per class",
       contrast_condition=f"digits 5-9 with {PLENTY_DIGITS} labelled images per class",
       figure="digits 5-9 test accuracy, the frozen convolutions pretrained on digits 0-4 plus a new head "
              f"minus the same CNN from scratch, {len(SEEDS)} seeds")

record("reuse the convolutions, not the dense layer trained for the source's classes", section="5",
       comparison=dense_cost, condition=f"digits 5-9 with {SHOTS_DIGITS} labelled images per class",
       figure="digits 5-9 test accuracy with the convolutions reused minus with the dense layer reused too, "
              f"{len(SEEDS)} seeds")
