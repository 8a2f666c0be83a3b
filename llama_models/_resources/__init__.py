"""One small module per API resource; each method reads as build, send, structure."""
