record("domain adaptation closes part of a domain shift", section="3",
       figure="AdaBN minus source only, test accuracy, paired over seeds",
       comparison=adabn_gain, condition=f"MNIST -> USPS digits, small CNN, seeds {SEEDS[0]}-{SEEDS[-1]}",
       contrast=adabn_control, contrast_condition="no shift: statistics re-estimated on held-out MNIST, "
                                                  "tested on other held-out MNIST images")

record("AdaBN on a frozen ImageNet base wins back part of a low-light shift", section="10",
       figure="AdaBN minus source only, test accuracy of a logistic regression on pooled features",
       comparison=photo_gain["AdaBN"], condition="flowers, day -> night (35% light, noise), one split, "
                                                 "interval over the test photos (paired bootstrap)",
       contrast=photo_control, contrast_condition="day -> day photos: no shift")
