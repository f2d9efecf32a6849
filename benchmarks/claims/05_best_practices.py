record("start from a model trained on similar data (negative transfer otherwise)", section="1",
       figure="USPS probe accuracy on the reused convolutions, pretrained minus random weights",
       comparison=similar, condition="source like the target: MNIST digits for USPS digits",
       contrast=distant, contrast_condition="distant source: flower photos at 28 px grayscale for USPS digits")

record("ImageNet weights beat random weights of the same network on photos", section="1",
       figure="flowers probe accuracy, MobileNetV2 0.35 ImageNet minus random weights, one split",
       comparison=photos, condition="flower photos (near ImageNet), 100 photos per class")

record("augmentation helps when data is small", section="3",
       figure="MNIST test accuracy of the tiny CNN, with augmentation minus without",
       comparison=helps, condition="shifts and rotations (label-preserving), 10 labelled digits per class",
       contrast=wrong_kind, contrast_condition="horizontal flips of digits (they change what a digit is)")

record("augmentation (flipped copies) helps a head on frozen features", section="3",
       figure="flowers test accuracy of a logistic regression on pooled features, with flipped copies minus without",
       comparison=flip_heads, condition="10 photos per class, MobileNetV2 0.35 pooled features (frozen)",
       note=f"cosine similarity of a photo's features and its mirror's: {mirror.mean():.3f}; "
            f"of two photos of one class: {other.mean():.3f}")

record("watch over-fitting: stop when validation stops improving", section="4",
       figure="MNIST test accuracy of the tiny CNN, early stopping (best validation loss) minus the full run",
       comparison=stop_gain[0.4], condition=f"10 digits per class, 40% of training labels wrong (validation "
                                            f"labels right), {STEPS} steps",
       contrast=stop_gain[0.0], contrast_condition="the same with clean labels")

where = dict(section="5", condition="tiny CNN trained from scratch, 10 digits per class",
      contrast_condition="linear head on frozen MobileNetV2 features, 80 flower photos per class")

record("dropout helps", figure="test accuracy, with dropout (0.5) minus without",
       comparison=regularised["dropout"][0], contrast=regularised["dropout"][1], **where)

record("weight decay helps", figure=f"test accuracy, with weight decay (AdamW, {DECAY:g}) minus without",
       comparison=regularised["weight decay"][0], contrast=regularised["weight decay"][1], **where)

record("a learning-rate schedule helps", section="6",
       figure="MNIST test accuracy of the tiny CNN, warm-up + cosine decay minus a constant rate",
       comparison=scheduled[HIGH_RATE], condition=f"Adam at a high rate ({HIGH_RATE:g}), {STEPS} steps, 10 digits per class",
       contrast=scheduled[LOW_RATE], contrast_condition=f"Adam at a low rate ({LOW_RATE:g})")
