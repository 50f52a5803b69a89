"""``make bench``: run every benchmark."""

from bench import (
    alerts_flood,
    collection,
    concurrency,
    evidence_disk,
    instrument_linking,
    nlp_throughput,
    scale,
    store_ingest,
    store_queries,
)

collection.main()
nlp_throughput.main()
store_queries.main()
store_ingest.main()
instrument_linking.main()
alerts_flood.main()
concurrency.main()
evidence_disk.main()
scale.main()
