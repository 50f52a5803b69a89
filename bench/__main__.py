"""``make bench``: run every benchmark."""

from bench import collection, concurrency, nlp_throughput, store_ingest, store_queries

collection.main()
nlp_throughput.main()
store_queries.main()
store_ingest.main()
concurrency.main()
