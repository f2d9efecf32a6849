folder_name = "the ants/bees photos" if USING_DEFAULT else Path(FOLDER).name

record("transfer beats a baseline without pretraining on the capstone folder", section="7",
       figure="feature extraction minus a logistic regression on 16x16 thumbnails, test accuracy",
       comparison=transfer, condition=f"{folder_name}, one run, interval over the test photos (paired bootstrap)")

record("LP-FT improves on feature extraction on the capstone folder", section="7",
       figure="LP-FT (kept on validation) minus feature extraction, test accuracy",
       comparison=lpft_gain, condition=f"{folder_name}, one run, interval over the test photos (paired bootstrap)"
       + ("" if kept else "; validation kept the feature-extraction weights, so both are one model"),
       note="benchmarks/capstone_recipe.py recipe, seeds 0-2: a mean gain smaller than the seeds' spread "
            "on ants/bees and on the flowers")
