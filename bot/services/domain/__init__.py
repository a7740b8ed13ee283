"""Money, clocks, locales, errors and parsed identifiers: the words every part shares."""
