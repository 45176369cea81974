"""Areas as geometry: the outlines of Japan's municipalities and prefectures."""
