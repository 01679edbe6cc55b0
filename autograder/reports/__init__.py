"""What people read: scores from the gradebook, the TA's tables, students' feedback pages, LMS exports."""
