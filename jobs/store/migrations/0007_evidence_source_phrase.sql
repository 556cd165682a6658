-- 0007: unnamed-source evidence rows hold the source phrase of the attribution frame (issue 10), so the
-- comments of article_evidence say what the cue is for each kind. No data change: rows written before this
-- migration keep the reporting-verb cue until their article is featurized again (the feature version changed).
COMMENT ON TABLE article_evidence IS 'The sentences behind the features: one row per unnamed source (its source phrase, or a frame-less cue such as reportedly) and per speculative sentence (its first cue). Offsets are character positions in articles.text (0-based, end exclusive).';
COMMENT ON COLUMN article_evidence.cue IS 'As it appears in the text: for unnamed_source the source phrase of the attribution (a senior official, sources close to the talks, critics) or a frame-less cue (reportedly, on condition of anonymity, it is believed); for speculation the first speculation cue of the sentence.';
COMMENT ON COLUMN article_evidence.cue_start IS 'Start of the cue (source phrase) in articles.text (characters, 0-based).';
COMMENT ON COLUMN article_evidence.cue_end IS 'End of the cue (source phrase) in articles.text (exclusive).';
