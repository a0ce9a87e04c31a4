"""Retrieval over a folder of health articles: clean, chunk, embed, index, search, answer.

Importing this package is cheap: torch, sentence-transformers, faiss and gradio are imported
only inside the functions that need them.
"""
