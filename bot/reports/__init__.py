"""Reports over stored incidents: response metrics, and later postmortems and reviews."""
