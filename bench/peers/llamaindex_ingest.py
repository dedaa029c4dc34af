"""LlamaIndex's IngestionPipeline on the benchmark corpus, as a user would write it.

SentenceSplitter(400, 50) -> OpenAIEmbedding (pointed at the bench's OpenAI-API test server)
-> ElasticsearchStore, in one of LlamaIndex's execution modes: `sync` (pipeline.run),
`workers` (pipeline.run(num_workers=N), a process pool for the transformations) or `async`
(pipeline.arun, concurrent embedding requests). Prints one JSON line with the timings.

The measured span is from the call that ingests the documents to the moment every node is
searchable (LlamaIndex's store refreshes the index after its bulk writes; the script checks with a
_count that does not refresh, and waits if needed).

The local Elasticsearch is a minimal distribution without `GET /`, which
`ElasticsearchStore(es_url=...)` calls (client.info()) before anything else. The store's
documented `es_client` parameter takes a ready AsyncElasticsearch client instead, which skips
that call; nothing else of LlamaIndex or the client is changed.
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time

import llama_index.core

# Offline: tiktoken would download its encoding; llama-index-core ships it.
os.environ.setdefault(
    "TIKTOKEN_CACHE_DIR",
    os.path.join(os.path.dirname(llama_index.core.__file__), "_static", "tiktoken_cache"),
)

from elasticsearch import AsyncElasticsearch, Elasticsearch  # noqa: E402
from llama_index.core import Document  # noqa: E402
from llama_index.core.ingestion import IngestionPipeline  # noqa: E402
from llama_index.core.node_parser import SentenceSplitter  # noqa: E402
from llama_index.embeddings.openai import OpenAIEmbedding  # noqa: E402
from llama_index.vector_stores.elasticsearch import ElasticsearchStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True, help="JSON lines: documentId, title, text, metadata")
    parser.add_argument("--es-url", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--openai-base", required=True)
    parser.add_argument("--mode", choices=["sync", "workers", "async"], default="sync")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--embed-batch-size", type=int, default=100)
    parser.add_argument("--dimensions", type=int, default=384)
    args = parser.parse_args()

    documents = []
    with open(args.corpus, encoding="utf-8") as corpus:
        for line in corpus:
            row = json.loads(line)
            metadata = dict(row.get("metadata") or {})
            if row.get("title"):
                metadata["title"] = row["title"]
            documents.append(Document(text=row["text"], doc_id=row["documentId"], metadata=metadata))

    store = ElasticsearchStore(index_name=args.index, es_client=AsyncElasticsearch(args.es_url))
    embedding = OpenAIEmbedding(
        model="text-embedding-3-small",
        api_key="bench",
        api_base=args.openai_base,
        dimensions=args.dimensions,
        embed_batch_size=args.embed_batch_size,
    )
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=400, chunk_overlap=50), embedding],
        vector_store=store,
    )

    started = time.time()
    if args.mode == "async":
        nodes = asyncio.run(pipeline.arun(documents=documents))
    elif args.mode == "workers":
        nodes = pipeline.run(documents=documents, num_workers=args.workers)
    else:
        nodes = pipeline.run(documents=documents)
    ingested = time.time()

    checker = Elasticsearch(args.es_url)
    while checker.count(index=args.index)["count"] < len(nodes):
        time.sleep(0.05)
    searchable = time.time()
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # num_workers' process pool
    cpu_seconds = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    print(
        json.dumps(
            {
                "mode": args.mode,
                "workers": args.workers if args.mode == "workers" else 1,
                "embedBatchSize": args.embed_batch_size,
                "documents": len(documents),
                "nodes": len(nodes),
                "ingestSeconds": round(ingested - started, 3),
                "searchableSeconds": round(searchable - started, 3),
                # Whole process (imports and corpus loading included), and its pool's workers.
                "cpuSeconds": round(cpu_seconds, 3),
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
