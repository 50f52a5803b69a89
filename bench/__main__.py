"""``make bench``: run every benchmark."""

from bench import (
    alerts_flood,
    collection,
    concurrency,
    nlp_throughput,
    scale,
    store_ingest,
    store_queries,
)

collection.main()
nlp_throughput.main()
store_queries.main()
store_ingest.main()
alerts_flood.main()
concurrency.main()
scale.main()
