-- Monitors 'target' and ends at once: the target outlives its watcher.
return { main = function(target) assert(process.monitor(target)); return true end }
