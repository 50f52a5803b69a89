"""``make bench``: run every benchmark."""

from bench import nlp_throughput

nlp_throughput.main()
