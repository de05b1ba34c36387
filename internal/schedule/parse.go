package schedule

import (
	"fmt"

	"github.com/robfig/cron/v3"
)

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse validates a crontab and returns its schedule.
func Parse(crontab string) (cron.Schedule, error) {
	s, err := parser.Parse(crontab)
	if err != nil {
		return nil, fmt.Errorf("crontab %q: %w", crontab, err)
	}
	return s, nil
}
