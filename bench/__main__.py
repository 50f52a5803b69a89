"""``make bench``: run every benchmark."""

from bench import nlp_throughput, store_ingest, store_queries

nlp_throughput.main()
store_queries.main()
store_ingest.main()
