// When the page first painted (the frame after the first one was drawn),
// in Unix milliseconds, for `cargo xtask bench app`.
requestAnimationFrame(() =>
  setTimeout(() => {
    window.__floorPaintAt = performance.timeOrigin + performance.now();
  }, 0),
);
