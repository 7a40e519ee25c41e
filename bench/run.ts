// Placeholder: the load benchmark (autocannon and ws clients against a real server) arrives with the performance
// work. Until then `npm run bench` says so and exits cleanly.
console.log('npm run bench: no scenarios yet (placeholder until the performance work lands).');
