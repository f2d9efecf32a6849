record("a pretrained text encoder beats training from scratch", section="4",
       figure="frozen encoder + LR minus a Keras model trained from scratch, Amazon test accuracy, "
              "paired over the seeds that draw the labelled sentences",
       comparison=few, condition=f"{FEW_LABELS} labelled Amazon sentences, seeds {FEW_SEEDS[0]}-{FEW_SEEDS[-1]}",
       contrast=many, contrast_condition=f"all {len(x_train)} labelled sentences")

record("the encoder's lead over TF-IDF is larger with few labels than with all", section="4",
       figure="(encoder minus TF-IDF at 32 labels) minus (the same with all labels), Amazon test accuracy",
       comparison=shrinks, condition=f"32 against all {len(x_train)} labelled Amazon sentences, "
                                     f"seeds {SEEDS[0]}-{SEEDS[-1]}")

record("a frozen text encoder loses less than TF-IDF from Amazon to Yelp and IMDb", section="6",
       figure="TF-IDF's loss minus the frozen encoder's, Amazon test to the worse of Yelp and IMDb",
       comparison=keeps, condition=f"{len(SEEDS)} re-splits of {len(all_x)} Amazon sentences")

record("CORAL on the frozen encoder's features closes part of the text domain shift", section="6",
       figure="CORAL minus source only, accuracy on the unlabelled target sentences, mean of Yelp and IMDb",
       comparison=coral_shift, condition=f"Amazon -> Yelp and IMDb, {len(SEEDS)} draws of the held-out sentences",
       contrast=coral_control, contrast_condition="Amazon -> Amazon test sentences (no shift), re-splits")

record(f"adding {FEW_TARGET} labelled target sentences closes part of the text domain shift", section="6",
       figure=f"{add} minus source only, accuracy on the other target sentences, mean of Yelp and IMDb",
       comparison=few_gain, condition=f"Amazon -> Yelp and IMDb, {len(SEEDS)} draws of the labelled sentences")
