"""Media decoding: audio windows and exact video frames, shared by preprocessing and prediction."""
