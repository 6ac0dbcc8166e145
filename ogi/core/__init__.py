"""The ground every stage stands on: configuration, the plain-data records that travel between
stages, and the primitives two stages share (media-type sniffing, text decoding, JS string
literals). Nothing here imports a stage."""
