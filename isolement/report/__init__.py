"""Reports read from the journal, for the crisis cell and investigators, and their signatures."""
