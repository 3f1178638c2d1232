"""Text front-ends: character vocabularies live with their data; here the WordPiece tokenizer."""
